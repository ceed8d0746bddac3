#!/usr/bin/env node
// The `parley` command. The sources are TypeScript run through tsx, so there
// is no build step: register its loader, then hand over to src/main.ts.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
