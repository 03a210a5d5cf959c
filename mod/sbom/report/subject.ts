/** What a scan looked at, and who scanned it: shared by every report format. */

/** The thing a scan inventoried: the host, a directory, or one container. */
export interface ScanSubject {
  type: "host" | "directory" | "container";
  /** Host name, directory path, or container name. */
  name: string;
  /** Container image reference (`nginx:1.25`), for containers. */
  image?: string;
  /** Container id, for containers. */
  id?: string;
}

/** The scanner that wrote the report. */
export interface ToolInfo {
  name: "ironpost";
  version: string;
}
