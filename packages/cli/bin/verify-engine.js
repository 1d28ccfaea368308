#!/usr/bin/env node
import { runVerifyEngineCli } from "../dist/verify-engine-cli.js";

await runVerifyEngineCli();
