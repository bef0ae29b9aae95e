// Bundles the extension (dist/extension.js, vscode external); with --tests, compiles the tests instead,
// to out/test/ for `node --test`. Type checking is tsc's job (npm run typecheck); esbuild only strips types.
import * as esbuild from "esbuild";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const args = new Set(process.argv.slice(2));
const production = args.has("--production");

const extension = {
  entryPoints: ["src/extension.ts"],
  bundle: true,
  outfile: "dist/extension.js",
  external: ["vscode"],
  format: "cjs",
  platform: "node",
  target: "node20",
  sourcemap: !production,
  minify: production,
  logLevel: "info",
};

function testEntries(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testEntries(join(dir, e.name)) : e.name.endsWith(".test.ts") ? [join(dir, e.name)] : [],
  );
}

const tests = {
  entryPoints: testEntries("test"),
  bundle: true,
  outdir: "out/test",
  outbase: "test",
  // playwright-core is loaded from node_modules at run time, not bundled (it reads its own files).
  external: ["vscode", "playwright-core"],
  format: "cjs",
  platform: "node",
  target: "node20",
  sourcemap: "inline",
  logLevel: "warning",
};

if (args.has("--watch")) {
  const ctx = await esbuild.context(extension);
  await ctx.watch();
} else if (args.has("--tests")) {
  await esbuild.build(tests);
} else {
  await esbuild.build(extension);
}
