#!/usr/bin/env node
import { runCompareEnginesCli } from "../dist/compare-engines-cli.js";

await runCompareEnginesCli();
