#!/usr/bin/env node
import { runServeEngineCli } from "../dist/serve-engine-cli.js";

await runServeEngineCli();
