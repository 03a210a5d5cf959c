/**
 * The files Ironpost ships beside its code (the BPF objects, the Sigma rules, the response
 * policies, the configs), found the same way under `deno run` and in the `deno compile`d
 * binary.
 *
 * Under `deno run` they are the repository's files. `deno task compile` embeds each entry of
 * {@link EMBEDDED_ASSETS} with `--include`; the binary's virtual file system holds its modules
 * and those files in the repository's layout under a root Deno picks at start
 * (`$TMPDIR/deno-compile-<binary name>/`), and this module's own URL points into it. So a path
 * relative to this module names the repository file in one case and the embedded copy in the
 * other, and `Deno.readFile` reads either (the compiled binary may always read its own virtual
 * file system; no `--allow-read` is needed for it).
 *
 * It lives in `mod/core` because capabilities (which import only the core) read assets:
 * `mod/ebpf` and `mod/sensors` their BPF objects.
 *
 * @example
 * ```ts ignore
 * import { assetDir, assetPath } from "./assets.ts";
 * const object = await Deno.readFile(assetPath("bpf/sensors.bpf.o"));
 * const rules = assetDir("rules");
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";

/**
 * What the compiled binary embeds, relative to the repository root (a trailing `/` is a
 * directory, embedded whole). `deno task compile` passes each as `--include`, and
 * {@link assetPath} refuses a path outside them, so an asset read at run time cannot be
 * missing from the binary.
 */
export const EMBEDDED_ASSETS = [
  "bpf/sensors.bpf.o",
  "bpf/xdp_filter.bpf.o",
  "rules/",
  "config/policies/",
  "config/ironpost.toml",
  "config/profiles/",
] as const;

const ROOT = new URL("../../", import.meta.url);

/** Whether this is the `deno compile`d binary (assets come from its virtual file system). */
export function isCompiled(): boolean {
  return Deno.build.standalone === true;
}

/** The directory the assets' paths are relative to: the repository, or its embedded copy. */
export function assetRoot(): string {
  return fileURLToPath(ROOT).replace(/\/$/, "");
}

/**
 * The absolute path of an embedded file, e.g. `assetPath("bpf/sensors.bpf.o")`. `rel` is
 * relative to the repository root and must be (or be inside) an entry of
 * {@link EMBEDDED_ASSETS}.
 */
export function assetPath(rel: string): string {
  const clean = rel.replace(/^\.\//, "").replace(/\/+$/, "");
  if (
    clean === "" || clean.startsWith("/") || clean.split("/").some((p) => p === ".." || p === ".")
  ) {
    throw new RangeError(`asset path "${rel}" must be relative to the repository, without ..`);
  }
  const embedded = EMBEDDED_ASSETS.some((a) =>
    a.endsWith("/") ? clean === a.slice(0, -1) || clean.startsWith(a) : clean === a
  );
  if (!embedded) {
    throw new RangeError(
      `"${rel}" is not an embedded asset; add it to EMBEDDED_ASSETS (mod/core/assets.ts)`,
    );
  }
  return fileURLToPath(new URL(clean, ROOT));
}

/** The absolute path of an embedded directory, e.g. `assetDir("rules")` (no trailing `/`). */
export function assetDir(rel: string): string {
  return assetPath(rel);
}
