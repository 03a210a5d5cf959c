/**
 * Why a config file or a rules/policies directory must not be trusted, or undefined when it
 * may be. A file anyone else can write is a way to turn the agent (often root) against the
 * host, so it is refused rather than warned about.
 */
export async function unsafeReason(
  path: string,
  runningAsRoot: boolean,
): Promise<string | undefined> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  const mode = (st.mode ?? 0) & 0o777;
  const writers = [mode & 0o020 ? "group" : "", mode & 0o002 ? "others" : ""].filter(Boolean);
  if (writers.length > 0) {
    return `${path} is writable by ${writers.join(" and ")} (mode ${octal(mode)})`;
  }
  if (runningAsRoot && st.uid !== null && st.uid !== 0) {
    return `${path} is owned by uid ${st.uid}, not root, while the agent runs as root`;
  }
  return undefined;
}

/** What a safe path looks like, with the commands that make it so. */
export function safeExpectation(path: string): string {
  return `owned by root and not writable by group or others (chown root ${path}; chmod go-w ${path})`;
}

export function octal(mode: number): string {
  return "0" + mode.toString(8).padStart(3, "0");
}
