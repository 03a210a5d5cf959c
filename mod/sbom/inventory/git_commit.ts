/**
 * The commit a JavaScript lockfile pins a git dependency to, read from its resolution spec
 * (npm `version`/`resolved`, yarn `resolved`/`resolution`, pnpm `tarball`). Only git-shaped
 * specs count: a registry tarball's `#sha1` fragment is a checksum, not a commit.
 */

/** Spec shapes whose last group is the commit, tried in order. */
const COMMIT_PATTERNS: readonly RegExp[] = [
  // git://, ssh://, git+ssh://, git+https://, git+http://, git+file://, optionally after "name@"
  /^(?:[^#]*@)?(?:git(?:\+(?:ssh|https?|file))?|ssh):\/\/[^#]+#(\w+)$/,
  // https://host/owner/repo.git#commit
  /^(?:[^#]*@)?https?:\/\/[^#]+\.git#(\w+)$/,
  // GitHub's tarball service: https://codeload.github.com/owner/repo/tar.gz/<commit>
  /^https:\/\/codeload\.github\.com(?:\/[\w.-]+){2}\/tar\.gz\/(\w+)$/,
  // yarn berry: ...#commit=<commit> or ...#commit:<commit>
  /#commit[:=](\w+)$/,
  // npm/yarn shorthands: github:owner/repo#commit
  /^(?:github|gitlab|bitbucket):[^#]+#(\w+)$/,
];

/** Hosts whose plain https URLs are git repositories. */
const GIT_HOSTS = new Set(["github.com", "gitlab.com", "bitbucket.org"]);

/**
 * The commit `spec` pins, or "" when it pins none.
 *
 * @example
 * ```ts
 * import { gitCommitOf } from "./git_commit.ts";
 * console.assert(gitCommitOf("git+ssh://git@github.com/a/b.git#3b1bb80b") === "3b1bb80b");
 * console.assert(gitCommitOf("https://registry.yarnpkg.com/a/-/a-1.0.0.tgz#41ae2eeb") === "");
 * ```
 */
export function gitCommitOf(spec: string): string {
  // No real spec is this long; the cap keeps the patterns' backtracking cheap on junk input.
  if (spec.length > 2048) return "";
  for (const re of COMMIT_PATTERNS) {
    const m = re.exec(spec);
    if (m) return m[1];
  }
  if (!/^https?:\/\//.test(spec)) return "";
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    return "";
  }
  if (!GIT_HOSTS.has(url.hostname)) return "";
  // GitLab archive links carry the commit as ?ref=
  const ref = url.searchParams.get("ref");
  if (ref !== null) return ref;
  return url.hash.slice(1);
}
