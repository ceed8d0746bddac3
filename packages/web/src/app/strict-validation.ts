// Imported first by main.tsx, before any module that builds a schema. The
// protocol's zod schemas compile validators with `new Function` where eval is
// allowed; the page's content security policy forbids it, and zod's probe for
// it (run once, at the first validation) would be reported as a violation.

import { z } from "zod";

z.config({ jitless: true });
