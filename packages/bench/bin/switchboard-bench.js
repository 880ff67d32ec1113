#!/usr/bin/env node
// `npx switchboard-bench`: the compiled CLI (`npm run build` at the root builds it). This file exists
// before the build, so npm can link the command at install time.
import '../dist/cli.js';
