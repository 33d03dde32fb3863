#!/usr/bin/env node
import { installEarlyExit } from "./early-exit.js";
import { main } from "./main.js";

installEarlyExit();
process.exitCode = await main(process.argv.slice(2));
