import { getLogger, type Logger } from "@logtape/logtape";
import {
  ContainerActionError,
  type ContainerFilesystem,
  type ContainerLookup,
  type ContainerNetwork,
  type ContainerRef,
  type ContainerStatus,
  type ControlRoute,
  errorMessage,
  type Health,
  type MetricSample,
  sample,
} from "../core/mod.ts";
import { Backoff } from "./backoff.ts";
import { containerIdFromCgroup } from "./cgroup_name.ts";
import { type ContainerInfo, toRef } from "./container_info.ts";
import {
  type DockerApi,
  type DockerEvent,
  DockerodeApi,
  type EventSubscription,
  type InspectedContainer,
  type ListedContainer,
  toActionError,
  toContainerError,
} from "./docker_api.ts";
import { ContainerError } from "./errors.ts";
import * as M from "./metrics.ts";
import { procAccess, readProcessView } from "./proc_view.ts";

/** The container events that change what the inventory knows. */
export const FOLLOWED_ACTIONS = ["start", "die", "destroy", "rename", "pause", "unpause"] as const;

export interface ContainerInventoryOptions {
  /** Docker Engine API unix socket (config `[container] docker_socket`). */
  socketPath: string;
  logger?: Logger;
  /** The Docker client (default: npm:dockerode on `socketPath`). */
  api?: DockerApi;
  /** First reconnect delay (ms), doubled after each failed attempt; default 250. */
  backoffMinMs?: number;
  /** Cap on the reconnect delay (ms); default 30 000. */
  backoffMaxMs?: number;
  /** Each Docker request gives up after this (ms); default 10 000. */
  requestTimeoutMs?: number;
  /** `start()` waits at most this long for the first connection (ms); default 5 000. */
  startTimeoutMs?: number;
  /** On-demand inspects (`resolveCgroup`) allowed per second; default 10. */
  resolvePerSecond?: number;
  /** An id Docker did not know is not asked about again for this long (ms); default 5 000. */
  resolveNegativeTtlMs?: number;
}

/** What changed in the inventory; `cause` is the Docker action or `list`, `resolve`, `disconnected`. */
export interface ContainerChange {
  type: "added" | "updated" | "removed";
  container: ContainerInfo;
  cause: string;
}

type Connection = "idle" | "connecting" | "connected" | "unavailable" | "stopped";

interface Entry {
  info: ContainerInfo;
  /** Built once per change, so the hot-path lookups allocate nothing. */
  ref: ContainerRef;
}

// Bounds of the small caches, so a flood of unknown ids cannot grow memory.
const MAX_ABSENT = 4096;
const MAX_DESTROYED = 4096;
const LIST_CONCURRENCY = 8;

/**
 * The container inventory: which Docker container a cgroup, cgroup id or mount namespace
 * belongs to, kept in memory from Docker's container list and its events stream.
 *
 * Built once by the orchestrator and handed to the modules that attribute or act on
 * containers (host sensors, guard, SBOM scanner). Lookups are synchronous map reads for the
 * event hot path. While Docker is absent (no socket, dockerd stopped or restarting) the
 * inventory is degraded, not unhealthy: lookups return undefined, so events are reported as
 * host events, and it reconnects with capped exponential backoff.
 *
 * @example
 * ```ts ignore
 * import { ContainerInventory } from "./mod.ts";
 * const inv = new ContainerInventory({ socketPath: "/var/run/docker.sock" });
 * await inv.start();
 * const ref = inv.lookupByCgroup("docker-<64-hex id>.scope"); // { id, name, image, labels }
 * await inv.stop();
 * ```
 */
export class ContainerInventory implements ContainerLookup {
  readonly name = "containers";
  readonly socketPath: string;
  readonly #api: DockerApi;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #startTimeoutMs: number;
  readonly #resolvePerSecond: number;
  readonly #negativeTtlMs: number;

  readonly #byId = new Map<string, Entry>();
  readonly #byName = new Map<string, string>();
  readonly #byCgroupId = new Map<bigint, string>();
  readonly #byMntns = new Map<number, string>();
  readonly #listeners = new Set<(c: ContainerChange) => void>();

  #conn: Connection = "idle";
  #running = false;
  #lastError?: ContainerError;
  #retryAt = 0;
  #abort = new AbortController();
  #loop?: Promise<void>;
  #subscription?: EventSubscription;
  #wake?: () => void;
  #firstAttempt?: () => void;
  #procWarned = false;

  readonly #inflight = new Map<string, Promise<ContainerRef | undefined>>();
  readonly #absent = new Map<string, number>();
  readonly #destroyed = new Set<string>();
  #tokens: number;
  #tokensAt = 0;

  #connects = 0;
  #failures = 0;
  #events = 0;
  readonly #resolves = { found: 0, absent: 0, limited: 0, error: 0 };

  constructor(opts: ContainerInventoryOptions) {
    this.socketPath = opts.socketPath;
    const timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.#api = opts.api ?? new DockerodeApi({ socketPath: opts.socketPath, timeoutMs });
    this.#log = opts.logger ?? getLogger(["ironpost", "containers"]);
    this.#backoff = new Backoff(opts.backoffMinMs ?? 250, opts.backoffMaxMs ?? 30_000);
    this.#startTimeoutMs = opts.startTimeoutMs ?? 5_000;
    this.#resolvePerSecond = Math.max(1, opts.resolvePerSecond ?? 10);
    this.#negativeTtlMs = opts.resolveNegativeTtlMs ?? 5_000;
    this.#tokens = this.#resolvePerSecond;
  }

  /**
   * Connect and load the running containers, then follow Docker's events. Resolves once
   * the first attempt has finished (or `startTimeoutMs` passed); never throws because
   * Docker is absent: that is reported by `health()` and retried in the background.
   */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#conn = "connecting";
    const first = Promise.withResolvers<void>();
    this.#firstAttempt = first.resolve;
    this.#loop = this.#run();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      first.promise,
      new Promise<void>((r) => timer = setTimeout(r, this.#startTimeoutMs)),
    ]);
    clearTimeout(timer);
  }

  /** Hang up on Docker, stop retrying and forget every container. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#abort.abort(new ContainerError("E_STOPPED", "The container inventory stopped"));
    this.#subscription?.close();
    this.#wake?.();
    await this.#loop;
    await Promise.allSettled([...this.#inflight.values()]);
    this.#clear("stopped", false);
    this.#conn = "stopped";
  }

  /** Healthy while connected to Docker; degraded (never unhealthy) without it. */
  health(): Health {
    switch (this.#conn) {
      case "connected":
        return { state: "healthy" };
      case "connecting":
        return { state: "degraded", reason: `Connecting to Docker at ${this.socketPath}` };
      case "unavailable": {
        const secs = Math.ceil((this.#retryAt - Date.now()) / 1000);
        return {
          state: "degraded",
          reason: `Docker is not available: ${this.#lastError?.message ?? "unknown error"}; ` +
            "events are reported as host events until it is " +
            (secs > 0 ? `(next attempt in ${secs} s)` : "(retrying now)"),
        };
      }
      case "idle":
        return { state: "degraded", reason: "The container inventory has not started" };
      case "stopped":
        return { state: "degraded", reason: "The container inventory is stopped" };
    }
  }

  /** True while the inventory is connected to Docker and following its events. */
  get connected(): boolean {
    return this.#conn === "connected";
  }

  /**
   * The container whose cgroup has this leaf name (`<64-hex id>` with the cgroupfs driver,
   * `docker-<64-hex id>.scope` with systemd) or path ending in one; undefined for the host
   * and for containers not (yet) known. The primary lookup of the host sensors.
   */
  lookupByCgroup(name: string): ContainerRef | undefined {
    const id = containerIdFromCgroup(name);
    return id === undefined ? undefined : this.#byId.get(id)?.ref;
  }

  /** The container whose cgroup v2 directory has this id (inode number). */
  lookupByCgroupId(cgroupId: bigint): ContainerRef | undefined {
    const id = this.#byCgroupId.get(cgroupId);
    return id === undefined ? undefined : this.#byId.get(id)?.ref;
  }

  /** The running container whose main process is in this mount namespace. */
  lookupByMntns(inum: number): ContainerRef | undefined {
    const id = this.#byMntns.get(inum);
    return id === undefined ? undefined : this.#byId.get(id)?.ref;
  }

  /**
   * `lookupByCgroup`, and on a miss for a name that holds a container id, one inspect of
   * that id (deduplicated, rate-limited, misses remembered for a few seconds), so the
   * first events of a container that started milliseconds ago, before its `start` event
   * was read, are still attributed.
   */
  async resolveCgroup(name: string): Promise<ContainerRef | undefined> {
    const hit = this.lookupByCgroup(name);
    if (hit) return hit;
    const id = containerIdFromCgroup(name);
    if (id === undefined || this.#conn !== "connected" || this.#destroyed.has(id)) {
      return undefined;
    }
    const pending = this.#inflight.get(id);
    if (pending) return await pending;
    const now = Date.now();
    const until = this.#absent.get(id);
    if (until !== undefined) {
      if (until > now) return undefined;
      this.#absent.delete(id);
    }
    if (!this.#takeToken(now)) {
      this.#resolves.limited++;
      return undefined;
    }
    const p = this.#resolve(id).finally(() => this.#inflight.delete(id));
    this.#inflight.set(id, p);
    return await p;
  }

  /** A container by full id, name (with or without the leading slash) or unique id prefix. */
  byId(idOrName: string): ContainerInfo | undefined {
    const exact = this.#byId.get(idOrName);
    if (exact) return exact.info;
    const named = this.#byName.get(idOrName.startsWith("/") ? idOrName.slice(1) : idOrName);
    if (named !== undefined) return this.#byId.get(named)?.info;
    if (!/^[0-9a-f]+$/.test(idOrName)) return undefined;
    let found: ContainerInfo | undefined;
    for (const [id, e] of this.#byId) {
      if (!id.startsWith(idOrName)) continue;
      if (found) return undefined; // ambiguous, as `docker inspect` says
      found = e.info;
    }
    return found;
  }

  /** Every container known now, by name (running and paused; exited ones until removed). */
  list(): ContainerInfo[] {
    return [...this.#byId.values()].map((e) => e.info).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
  }

  /**
   * Asks Docker now (not the maps) about `ref`: a full id, a name or a unique id prefix, as
   * `docker inspect` takes them; undefined when Docker knows no such container. Works before
   * `start()`, so a one-off command need not follow the events stream.
   */
  async inspectFilesystem(
    ref: string,
    signal: AbortSignal = this.#abort.signal,
  ): Promise<ContainerFilesystem | undefined> {
    const insp = await this.#api.inspectContainer(ref, signal);
    if (insp === undefined) return undefined;
    return {
      id: insp.id,
      name: stripSlash(insp.name),
      image: insp.configImage,
      running: insp.running,
      ...(insp.mergedDir !== undefined ? { mergedDir: insp.mergedDir } : {}),
    };
  }

  /** `docker export` of container `id`, streamed (see `DockerApi.exportContainer`). */
  exportFilesystem(
    id: string,
    signal: AbortSignal = this.#abort.signal,
  ): Promise<ReadableStream<Uint8Array>> {
    return this.#api.exportContainer(id, signal);
  }

  // ---- acting on containers (ContainerControl) ----
  // Each asks Docker directly, started or not; errors are ContainerActionErrors. A call is
  // bounded by the request timeout (a stop: its grace period more), not by stop().

  /**
   * What Docker says now of `ref` (full id, name or unique id prefix), with its networks and
   * the aliases the user gave on each; undefined when Docker knows no such container.
   */
  async containerStatus(ref: string): Promise<ContainerStatus | undefined> {
    let insp: InspectedContainer | undefined;
    try {
      insp = await this.#api.inspectContainer(ref, actionSignal());
    } catch (err) {
      throw toActionError(err, "inspect", ref, this.socketPath);
    }
    if (insp === undefined) return undefined;
    return {
      id: insp.id,
      name: stripSlash(insp.name),
      image: insp.configImage,
      labels: insp.labels,
      state: insp.state,
      networks: insp.networks.map((n) => ({
        name: n.name,
        aliases: userAliases(n.aliases, insp.id),
        ...(n.ipv4 !== undefined ? { ipv4: n.ipv4 } : {}),
        ...(n.ipv6 !== undefined ? { ipv6: n.ipv6 } : {}),
      })),
    };
  }

  /** `docker pause`; a container already paused or not running is refused (409). */
  async pauseContainer(id: string): Promise<void> {
    await this.#act("pause", id, (s) => this.#api.pauseContainer(id, s));
    this.#synced(id, "pause");
  }

  /** `docker unpause`; a container that is not paused is refused (409). */
  async unpauseContainer(id: string): Promise<void> {
    await this.#act("unpause", id, (s) => this.#api.unpauseContainer(id, s));
    this.#synced(id, "unpause");
  }

  /**
   * `docker stop -t graceSecs` (fractions round up); resolves once the container has exited.
   * A container that was not running is not an error.
   */
  async stopContainer(id: string, graceSecs: number): Promise<void> {
    if (!Number.isFinite(graceSecs) || graceSecs < 0) {
      throw new ContainerActionError(
        `Cannot stop ${id}: the grace period must be a finite number of seconds >= 0, ` +
          `not ${graceSecs}`,
        {},
      );
    }
    const t = Math.ceil(graceSecs);
    await this.#act("stop", id, (s) => this.#api.stopContainer(id, t, s));
    this.#synced(id, "die");
  }

  /** `docker kill -s signal`; a container that is not running is refused (409). */
  async killContainer(id: string, signal: string): Promise<void> {
    // The container's state changes, if at all, when the process dies: the events say so.
    await this.#act("kill", id, (s) => this.#api.killContainer(id, signal, s));
  }

  /** `docker network disconnect -f network id` (a paused container too). */
  async disconnectNetwork(id: string, network: string): Promise<void> {
    await this.#act(
      `disconnect from ${network}`,
      id,
      (s) => this.#api.disconnectNetwork(id, network, true, s),
    );
  }

  /** `docker network connect --alias …` with the aliases recorded in `network`. */
  async connectNetwork(id: string, network: ContainerNetwork): Promise<void> {
    await this.#act(
      `connect to ${network.name}`,
      id,
      (s) => this.#api.connectNetwork(id, network.name, network.aliases, s),
    );
  }

  async #act(what: string, id: string, fn: (s: AbortSignal) => Promise<void>): Promise<void> {
    try {
      await fn(actionSignal());
    } catch (err) {
      const e = toActionError(err, what, id, this.socketPath);
      // A 404 of something else (a forced disconnect says "endpoint … not found" for a
      // container that no longer exists): gone only if Docker knows no such container.
      if (e.status === 404 && !e.gone && !await this.#exists(id)) {
        throw new ContainerActionError(
          `Cannot ${what} ${id}: No such container: ${id} (Docker said: ${e.message})`,
          { gone: true, status: 404, cause: e },
        );
      }
      throw e;
    }
  }

  /** False only when Docker says there is no container `ref`. */
  async #exists(ref: string): Promise<boolean> {
    try {
      return await this.#api.inspectContainer(ref, actionSignal()) !== undefined;
    } catch {
      return true;
    }
  }

  /**
   * After a successful action, the state the events stream is about to report, so a lookup
   * right after the call already sees it (the event then changes nothing).
   */
  #synced(ref: string, action: "pause" | "unpause" | "die"): void {
    if (this.#conn !== "connected") return;
    const info = this.byId(ref);
    if (!info) return;
    this.#apply({ action, id: info.id, attributes: {} }).catch((err) =>
      this.#log.debug("syncing {id} after {action}: {error}", {
        id: info.id,
        action,
        error: errorMessage(err),
      })
    );
  }

  /** Be told of every change; returns the function that unsubscribes. */
  onChange(cb: (change: ContainerChange) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  metrics(): MetricSample[] {
    return [
      sample(M.KNOWN, this.#byId.size),
      sample(M.DOCKER_CONNECTED, this.#conn === "connected" ? 1 : 0),
      sample(M.DOCKER_CONNECTS, this.#connects),
      sample(M.DOCKER_FAILURES, this.#failures),
      sample(M.EVENTS, this.#events),
      ...Object.entries(this.#resolves).map(([result, value]) =>
        sample(M.RESOLVES, value, { result })
      ),
    ];
  }

  /** `GET /containers`: the inventory as JSON (cgroup ids as strings). */
  routes(): ControlRoute[] {
    return [{
      method: "GET",
      path: "/containers",
      handle: () =>
        Response.json({
          docker: { socket: this.socketPath, connected: this.connected, ...this.health() },
          containers: this.list().map((c) => ({
            ...c,
            cgroupId: c.cgroupId === undefined ? undefined : String(c.cgroupId),
          })),
        }),
    }];
  }

  // ---- connection loop ----

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        const sub = await this.#connect();
        this.#firstAttempt?.();
        await this.#follow(sub);
        if (!this.#running) break;
        this.#lost(
          new ContainerError(
            "E_DOCKER_STREAM_ENDED",
            `The Docker events stream on ${this.socketPath} ended (dockerd stopped or restarted)`,
            { socketPath: this.socketPath },
          ),
        );
      } catch (err) {
        if (!this.#running) break;
        this.#lost(toContainerError(err, "connect", this.socketPath));
      } finally {
        this.#subscription = undefined;
      }
      this.#firstAttempt?.();
      const delay = this.#backoff.next();
      this.#retryAt = Date.now() + delay;
      await this.#sleep(delay);
    }
  }

  async #connect(): Promise<EventSubscription> {
    const signal = this.#abort.signal;
    await this.#api.ping(signal);
    // Subscribe before listing, so a container that starts in between is not missed; its
    // events wait in the stream until the list is loaded.
    const sub = await this.#api.containerEvents(FOLLOWED_ACTIONS, signal);
    this.#subscription = sub;
    try {
      await this.#loadAll(signal);
    } catch (err) {
      sub.close();
      throw err;
    }
    this.#conn = "connected";
    this.#lastError = undefined;
    this.#backoff.reset();
    this.#connects++;
    this.#log.info("following Docker at {socket}: {count} running containers", {
      socket: this.socketPath,
      count: this.#byId.size,
    });
    return sub;
  }

  async #follow(sub: EventSubscription): Promise<void> {
    for await (const ev of sub) {
      if (!this.#running) return;
      this.#events++;
      try {
        await this.#apply(ev);
      } catch (err) {
        // A failed inspect leaves the entry as it was; if Docker went away the stream
        // ends next and the loop reconnects.
        this.#log.warn("applying Docker event {action} of {id}: {error}", {
          action: ev.action,
          id: ev.id,
          error: errorMessage(err),
        });
      }
    }
  }

  #lost(err: ContainerError): void {
    const wasConnected = this.#conn === "connected";
    const repeated = this.#lastError?.message === err.message;
    this.#conn = "unavailable";
    this.#lastError = err;
    this.#failures++;
    if (wasConnected) {
      this.#log.warn("lost Docker: {error}; containers are not attributed until it is back", {
        error: err.message,
      });
    } else if (!repeated) {
      this.#log.warn("Docker is not available: {error}; retrying with backoff", {
        error: err.message,
      });
    }
    this.#clear("disconnected", true);
  }

  #sleep(ms: number): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  // ---- what Docker says ----

  async #loadAll(signal: AbortSignal): Promise<void> {
    const listed = await this.#api.listContainers({ all: false }, signal);
    const infos: ContainerInfo[] = [];
    let next = 0;
    const worker = async () => {
      while (next < listed.length) {
        const l = listed[next++];
        const insp = await this.#api.inspectContainer(l.id, signal);
        if (insp) infos.push(this.#build(insp, l));
      }
    };
    await Promise.all(Array.from({ length: Math.min(LIST_CONCURRENCY, listed.length) }, worker));
    const seen = new Set(infos.map((i) => i.id));
    for (const id of [...this.#byId.keys()]) if (!seen.has(id)) this.#remove(id, "list");
    for (const info of infos) this.#upsert(info, "list");
  }

  async #apply(ev: DockerEvent): Promise<void> {
    const entry = this.#byId.get(ev.id);
    switch (ev.action) {
      case "start":
        await this.#refresh(ev.id, ev.action);
        return;
      case "pause":
      case "unpause":
        if (entry) {
          const state = ev.action === "pause" ? "paused" : "running";
          // Already so when the inventory made the change itself (see #synced).
          if (entry.info.state !== state) this.#upsert({ ...entry.info, state }, ev.action);
        } else await this.#refresh(ev.id, ev.action);
        return;
      case "die":
        // Kept until `destroy`: the sensors may still read records of its last processes.
        // Its mount namespace number can be reused once freed, so that index goes now.
        if (entry && !(entry.info.state === "exited" && entry.info.pid === 0)) {
          this.#upsert({ ...entry.info, state: "exited", pid: 0, mntns: undefined }, ev.action);
        }
        return;
      case "destroy":
        this.#destroyed.add(ev.id);
        if (this.#destroyed.size > MAX_DESTROYED) {
          this.#destroyed.delete(this.#destroyed.values().next().value as string);
        }
        this.#remove(ev.id, ev.action);
        return;
      case "rename": {
        const name = stripSlash(ev.attributes.name ?? "");
        if (entry && name) this.#upsert({ ...entry.info, name }, ev.action);
        else await this.#refresh(ev.id, ev.action);
        return;
      }
    }
  }

  /** Inspect one container and store what Docker says now (or forget it if it is gone). */
  async #refresh(id: string, cause: string): Promise<ContainerRef | undefined> {
    const signal = this.#abort.signal;
    const [listed, insp] = await Promise.all([
      this.#api.listContainers({ all: true, id }, signal),
      this.#api.inspectContainer(id, signal),
    ]);
    if (!insp) {
      this.#remove(id, cause);
      return undefined;
    }
    return this.#upsert(this.#build(insp, listed.find((l) => l.id === insp.id)), cause);
  }

  async #resolve(id: string): Promise<ContainerRef | undefined> {
    try {
      const insp = await this.#api.inspectContainer(id, this.#abort.signal);
      if (!insp) {
        this.#resolves.absent++;
        this.#absent.set(id, Date.now() + this.#negativeTtlMs);
        if (this.#absent.size > MAX_ABSENT) {
          this.#absent.delete(this.#absent.keys().next().value as string);
        }
        return undefined;
      }
      const listed = await this.#api.listContainers({ all: true, id }, this.#abort.signal);
      this.#resolves.found++;
      // The events stream may have stored a newer view meanwhile; that one wins.
      const known = this.#byId.get(id);
      if (known) return known.ref;
      return this.#upsert(this.#build(insp, listed.find((l) => l.id === insp.id)), "resolve");
    } catch (err) {
      this.#resolves.error++;
      this.#log.debug("resolving container {id}: {error}", { id, error: errorMessage(err) });
      return undefined;
    }
  }

  #build(insp: InspectedContainer, listed?: ListedContainer): ContainerInfo {
    const running = insp.state === "running" || insp.state === "paused";
    const pid = running ? insp.pid : 0;
    const view = readProcessView(pid, insp.id);
    if (pid > 0 && !this.#procWarned && procAccess() === "none") {
      this.#procWarned = true;
      this.#log.warn(
        "cannot read /proc (needs --allow-ffi): containers get no mount namespace or cgroup id",
      );
    }
    return {
      id: insp.id,
      name: stripSlash(insp.name || listed?.names[0] || ""),
      image: listed?.image || insp.configImage || insp.imageId,
      imageId: insp.imageId || listed?.imageId || "",
      labels: { ...(listed?.labels ?? {}), ...insp.labels },
      state: insp.state,
      pid,
      startedAt: insp.startedAt,
      ...view,
    };
  }

  // ---- the maps ----

  #upsert(info: ContainerInfo, cause: string): ContainerRef | undefined {
    if (this.#destroyed.has(info.id)) return undefined;
    const old = this.#byId.get(info.id);
    if (old) this.#unindex(old);
    const entry: Entry = { info, ref: old && sameRef(old.ref, info) ? old.ref : toRef(info) };
    this.#byId.set(info.id, entry);
    this.#byName.set(info.name, info.id);
    if (info.cgroupId !== undefined) this.#byCgroupId.set(info.cgroupId, info.id);
    if (info.mntns !== undefined) this.#byMntns.set(info.mntns, info.id);
    this.#absent.delete(info.id);
    this.#emit({ type: old ? "updated" : "added", container: info, cause });
    return entry.ref;
  }

  #remove(id: string, cause: string): void {
    const old = this.#byId.get(id);
    if (!old) return;
    this.#unindex(old);
    this.#byId.delete(id);
    this.#emit({ type: "removed", container: old.info, cause });
  }

  #unindex(e: Entry): void {
    const { id, name, cgroupId, mntns } = e.info;
    if (this.#byName.get(name) === id) this.#byName.delete(name);
    if (cgroupId !== undefined && this.#byCgroupId.get(cgroupId) === id) {
      this.#byCgroupId.delete(cgroupId);
    }
    if (mntns !== undefined && this.#byMntns.get(mntns) === id) this.#byMntns.delete(mntns);
  }

  #clear(cause: string, notify: boolean): void {
    for (const id of [...this.#byId.keys()]) {
      if (notify) this.#remove(id, cause);
    }
    this.#byId.clear();
    this.#byName.clear();
    this.#byCgroupId.clear();
    this.#byMntns.clear();
    this.#absent.clear();
  }

  #emit(change: ContainerChange): void {
    for (const cb of this.#listeners) {
      try {
        cb(change);
      } catch (err) {
        this.#log.error("container change listener failed: {error}", { error: errorMessage(err) });
      }
    }
  }

  #takeToken(now: number): boolean {
    const elapsed = (now - this.#tokensAt) / 1000;
    this.#tokensAt = now;
    this.#tokens = Math.min(
      this.#resolvePerSecond,
      this.#tokens + elapsed * this.#resolvePerSecond,
    );
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** A signal for one action: only the request timeout ends it, not the inventory's stop(). */
function actionSignal(): AbortSignal {
  return new AbortController().signal;
}

/**
 * The aliases of a network endpoint the user gave, without those Docker adds itself (the
 * container's 12-hex short id, on user-defined networks before API 1.45), so that
 * reconnecting with them restores exactly what there was.
 *
 * @example
 * ```ts
 * import { userAliases } from "./inventory.ts";
 * const id = "fb2a637d5964" + "0".repeat(52);
 * console.assert(userAliases(["web", "fb2a637d5964"], id).join() === "web");
 * ```
 */
export function userAliases(aliases: readonly string[], id: string): string[] {
  const short = id.slice(0, 12);
  return [...new Set(aliases.filter((a) => a !== short && a !== id))];
}

function stripSlash(name: string): string {
  return name.startsWith("/") ? name.slice(1) : name;
}

/** True when `r` still describes `info` (so callers keep one object per state). */
function sameRef(r: ContainerRef, info: ContainerInfo): boolean {
  if (r.id !== info.id || r.name !== info.name || r.image !== info.image) return false;
  const a = r.labels ?? {};
  const keys = Object.keys(info.labels);
  return keys.length === Object.keys(a).length && keys.every((k) => a[k] === info.labels[k]);
}
