#!/usr/bin/env node
import { runBuildEngineCli } from "../dist/build-engine-cli.js";

await runBuildEngineCli();
