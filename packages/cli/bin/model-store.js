#!/usr/bin/env node
import { runModelStoreCli } from "../dist/model-store-cli.js";
await runModelStoreCli();
