/**
 * The Docker Engine calls the inventory makes (ping, list, inspect, the events stream, and
 * a container's export for the SBOM scanner), behind a small interface so the inventory does not depend on one client. The
 * implementation here uses `npm:dockerode`, imported on first use so an agent without a
 * container module does not load it.
 *
 * Deno permissions dockerode needs: `--allow-read`, `--allow-write` and
 * `--allow-net=unix:<socket>` for the socket, and an unscoped `--allow-env` (its `debug`
 * dependency lists every environment variable when it loads).
 */
import { ContainerActionError, errorMessage } from "../core/mod.ts";
import { ContainerError } from "./errors.ts";

/** One entry of `GET /containers/json` (`docker ps`). */
export interface ListedContainer {
  id: string;
  /** Names with their leading slash, as the API gives them. */
  names: string[];
  /** The image as `docker ps` shows it. */
  image: string;
  imageId: string;
  labels: Record<string, string>;
  state: string;
}

/** The fields of `GET /containers/{id}/json` (`docker inspect`) the inventory uses. */
export interface InspectedContainer {
  id: string;
  /** Name with its leading slash. */
  name: string;
  /** The image reference given at create (`Config.Image`). */
  configImage: string;
  imageId: string;
  labels: Record<string, string>;
  state: string;
  pid: number;
  startedAt?: string;
  /** `State.Running`. */
  running: boolean;
  /** `GraphDriver.Data.MergedDir`, on overlay2 while the container runs. */
  mergedDir?: string;
  /** `NetworkSettings.Networks`, by name, as Docker gives them (aliases unfiltered). */
  networks: InspectedNetwork[];
}

/** One entry of an inspected container's `NetworkSettings.Networks`. */
export interface InspectedNetwork {
  name: string;
  /** Docker's `Aliases`, including those Docker adds itself (the short container id). */
  aliases: string[];
  /** `IPAddress`, when Docker assigned one. */
  ipv4?: string;
  /** `GlobalIPv6Address`, when Docker assigned one. */
  ipv6?: string;
}

/** One record of `GET /events` for a container. */
export interface DockerEvent {
  /** `start`, `die`, `destroy`, `rename`, `pause`, `unpause`, … */
  action: string;
  /** The container id. */
  id: string;
  /** `name`, `image`, `oldName` (rename) and the container's labels. */
  attributes: Record<string, string>;
}

/** A live events subscription: iterate it, or `close()` it to hang up. */
export interface EventSubscription extends AsyncIterable<DockerEvent> {
  close(): void;
}

/** The Docker Engine calls the inventory makes. Each rejects with a ContainerError. */
export interface DockerApi {
  ping(signal: AbortSignal): Promise<void>;
  listContainers(
    opts: { all?: boolean; id?: string },
    signal: AbortSignal,
  ): Promise<ListedContainer[]>;
  /** Undefined when there is no such container. */
  inspectContainer(id: string, signal: AbortSignal): Promise<InspectedContainer | undefined>;
  /**
   * Subscribe to container events with these actions. Resolves once the daemon has
   * accepted the subscription (later events are buffered until iterated); iteration ends
   * when the daemon closes the stream, and throws when the connection breaks or `signal`
   * aborts.
   */
  containerEvents(actions: readonly string[], signal: AbortSignal): Promise<EventSubscription>;
  /**
   * `GET /containers/{id}/export`: the filesystem as a tar stream. Resolves once Docker has
   * answered (the request timeout applies until then); `signal` ends the stream later.
   */
  exportContainer(id: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array>>;
  /** `POST /containers/{id}/pause`. */
  pauseContainer(id: string, signal: AbortSignal): Promise<void>;
  /** `POST /containers/{id}/unpause`. */
  unpauseContainer(id: string, signal: AbortSignal): Promise<void>;
  /**
   * `POST /containers/{id}/stop?t=graceSecs`; an already stopped container (304) is not an
   * error. The request timeout starts after the grace period.
   */
  stopContainer(id: string, graceSecs: number, signal: AbortSignal): Promise<void>;
  /** `POST /containers/{id}/kill?signal=…`. */
  killContainer(id: string, sig: string, signal: AbortSignal): Promise<void>;
  /** `POST /networks/{network}/disconnect` with `Force`. */
  disconnectNetwork(
    id: string,
    network: string,
    force: boolean,
    signal: AbortSignal,
  ): Promise<void>;
  /** `POST /networks/{network}/connect` with `EndpointConfig.Aliases`. */
  connectNetwork(
    id: string,
    network: string,
    aliases: readonly string[],
    signal: AbortSignal,
  ): Promise<void>;
}

export interface DockerodeApiOptions {
  socketPath: string;
  /** Each request (and the events subscription until it is accepted) gives up after this. */
  timeoutMs?: number;
}

/*
 * The slice of dockerode this file calls, typed here: @types/dockerode pulls in
 * @types/node, whose declarations replace Deno's own node types (node:sqlite among them).
 */
interface DockerodeListed {
  Id: string;
  Names?: string[];
  Image?: string;
  ImageID?: string;
  Labels?: Record<string, string>;
  State?: string;
}
interface DockerodeInspected {
  Id: string;
  Name?: string;
  Image?: string;
  Config?: { Image?: string; Labels?: Record<string, string> };
  State?: { Status?: string; Pid?: number; StartedAt?: string; Running?: boolean };
  GraphDriver?: { Name?: string; Data?: Record<string, string> | null };
  NetworkSettings?: {
    Networks?:
      | Record<
        string,
        {
          Aliases?: string[] | null;
          IPAddress?: string;
          GlobalIPv6Address?: string;
        } | null
      >
      | null;
  };
}
/** What the container and network calls resolve to (nothing the inventory reads). */
type Ack = Promise<unknown>;
/** The event stream as dockerode hands it: a Node readable of JSON lines. */
type NodeReadable = AsyncIterable<Uint8Array | string>;
interface Dockerode {
  listContainers(o: {
    all: boolean;
    filters?: Record<string, string[]>;
    abortSignal: AbortSignal;
  }): Promise<DockerodeListed[]>;
  getContainer(id: string): {
    inspect(o: { abortSignal: AbortSignal }): Promise<DockerodeInspected>;
    export(o: { abortSignal: AbortSignal }): Promise<NodeReadable>;
    pause(o: { abortSignal: AbortSignal }): Ack;
    unpause(o: { abortSignal: AbortSignal }): Ack;
    stop(o: { t: number; abortSignal: AbortSignal }): Ack;
    kill(o: { signal: string; abortSignal: AbortSignal }): Ack;
  };
  getNetwork(id: string): {
    connect(o: {
      Container: string;
      EndpointConfig: { Aliases: string[] };
      abortSignal: AbortSignal;
    }): Ack;
    disconnect(o: { Container: string; Force: boolean; abortSignal: AbortSignal }): Ack;
  };
  getEvents(
    o: { filters: Record<string, string[]>; abortSignal: AbortSignal },
  ): Promise<NodeReadable>;
}
type DockerodeClass = new (o: { socketPath: string; host: undefined }) => Dockerode;
let dockerodeClass: DockerodeClass | undefined;

/** The npm:dockerode implementation of DockerApi over a unix socket. */
export class DockerodeApi implements DockerApi {
  readonly socketPath: string;
  readonly #timeoutMs: number;
  #client?: Dockerode;

  constructor(opts: DockerodeApiOptions) {
    this.socketPath = opts.socketPath;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async #docker(): Promise<Dockerode> {
    if (!this.#client) {
      dockerodeClass ??= (await import("dockerode")).default as unknown as DockerodeClass;
      // `host: undefined` so a DOCKER_HOST in the environment cannot redirect the client
      // away from the configured socket (docker-modem reads it as a default).
      this.#client = new dockerodeClass({ socketPath: this.socketPath, host: undefined });
    }
    return this.#client;
  }

  async ping(signal: AbortSignal): Promise<void> {
    const d = await this.#docker();
    // The typings omit ping's options; the runtime accepts abortSignal like every call.
    const pinger = d as unknown as { ping(o: { abortSignal: AbortSignal }): Promise<unknown> };
    await this.#call("ping", signal, (s) => pinger.ping({ abortSignal: s }));
  }

  async listContainers(
    opts: { all?: boolean; id?: string },
    signal: AbortSignal,
  ): Promise<ListedContainer[]> {
    const d = await this.#docker();
    const list = await this.#call("list containers", signal, (s) =>
      d.listContainers({
        all: opts.all ?? false,
        ...(opts.id ? { filters: { id: [opts.id] } } : {}),
        abortSignal: s,
      }));
    return list.map((c) => ({
      id: c.Id,
      names: c.Names ?? [],
      image: c.Image ?? "",
      imageId: c.ImageID ?? "",
      labels: c.Labels ?? {},
      state: c.State ?? "",
    }));
  }

  async inspectContainer(id: string, signal: AbortSignal): Promise<InspectedContainer | undefined> {
    const d = await this.#docker();
    let c: DockerodeInspected;
    try {
      c = await this.#call(
        "inspect",
        signal,
        (s) => d.getContainer(id).inspect({ abortSignal: s }),
      );
    } catch (err) {
      if (err instanceof ContainerError && err.context.status === 404) return undefined;
      throw err;
    }
    return {
      id: c.Id,
      name: c.Name ?? "",
      configImage: c.Config?.Image ?? "",
      imageId: c.Image ?? "",
      labels: c.Config?.Labels ?? {},
      state: c.State?.Status ?? "",
      pid: c.State?.Pid ?? 0,
      startedAt: c.State?.StartedAt && !c.State.StartedAt.startsWith("0001-")
        ? c.State.StartedAt
        : undefined,
      running: c.State?.Running === true,
      ...(c.GraphDriver?.Data?.MergedDir ? { mergedDir: c.GraphDriver.Data.MergedDir } : {}),
      networks: Object.entries(c.NetworkSettings?.Networks ?? {}).map(([name, n]) => ({
        name,
        aliases: n?.Aliases ?? [],
        ...(n?.IPAddress ? { ipv4: n.IPAddress } : {}),
        ...(n?.GlobalIPv6Address ? { ipv6: n.GlobalIPv6Address } : {}),
      })),
    };
  }

  async pauseContainer(id: string, signal: AbortSignal): Promise<void> {
    const d = await this.#docker();
    await this.#call("pause", signal, (s) => d.getContainer(id).pause({ abortSignal: s }));
  }

  async unpauseContainer(id: string, signal: AbortSignal): Promise<void> {
    const d = await this.#docker();
    await this.#call("unpause", signal, (s) => d.getContainer(id).unpause({ abortSignal: s }));
  }

  async stopContainer(id: string, graceSecs: number, signal: AbortSignal): Promise<void> {
    const d = await this.#docker();
    try {
      await this.#call(
        "stop",
        signal,
        (s) => d.getContainer(id).stop({ t: graceSecs, abortSignal: s }),
        graceSecs * 1000,
      );
    } catch (err) {
      // 304 Not Modified: it was not running, which is what was asked.
      if (err instanceof ContainerError && err.context.status === 304) return;
      throw err;
    }
  }

  async killContainer(id: string, sig: string, signal: AbortSignal): Promise<void> {
    const d = await this.#docker();
    await this.#call(
      "kill",
      signal,
      (s) => d.getContainer(id).kill({ signal: sig, abortSignal: s }),
    );
  }

  async disconnectNetwork(
    id: string,
    network: string,
    force: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const d = await this.#docker();
    await this.#call(
      "network disconnect",
      signal,
      (s) => d.getNetwork(network).disconnect({ Container: id, Force: force, abortSignal: s }),
    );
  }

  async connectNetwork(
    id: string,
    network: string,
    aliases: readonly string[],
    signal: AbortSignal,
  ): Promise<void> {
    const d = await this.#docker();
    await this.#call(
      "network connect",
      signal,
      (s) =>
        d.getNetwork(network).connect({
          Container: id,
          EndpointConfig: { Aliases: [...aliases] },
          abortSignal: s,
        }),
    );
  }

  async exportContainer(id: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const d = await this.#docker();
    const link = linkSignal(signal, this.#timeoutMs, this.socketPath, "export");
    let stream: NodeReadable;
    try {
      stream = await d.getContainer(id).export({ abortSignal: link.signal });
    } catch (err) {
      link.release();
      throw toContainerError(err, "export", this.socketPath, link.signal);
    }
    // Answered: from here on only the caller's signal ends the stream, not the timeout.
    link.clearTimer();
    const socketPath = this.socketPath;
    const chunks = (async function* () {
      try {
        for await (const c of stream) yield typeof c === "string" ? new TextEncoder().encode(c) : c;
      } catch (err) {
        throw toContainerError(err, "export", socketPath, link.signal);
      } finally {
        link.release();
        (stream as unknown as { destroy?(): void }).destroy?.();
      }
    })();
    return ReadableStream.from(chunks);
  }

  async containerEvents(
    actions: readonly string[],
    signal: AbortSignal,
  ): Promise<EventSubscription> {
    const d = await this.#docker();
    const link = linkSignal(signal, this.#timeoutMs, this.socketPath, "events");
    let stream: NodeReadable;
    try {
      stream = await d.getEvents({
        filters: { type: ["container"], event: [...actions] },
        abortSignal: link.signal,
      });
    } catch (err) {
      link.release();
      throw toContainerError(err, "events", this.socketPath, link.signal);
    }
    // Accepted: from here on only the caller's signal ends the stream, not the timeout.
    link.clearTimer();
    const close = () => {
      link.release();
      (stream as unknown as { destroy?(): void }).destroy?.();
    };
    const socketPath = this.socketPath;
    return {
      close,
      [Symbol.asyncIterator]: () => readEvents(stream, link.signal, socketPath, close),
    };
  }

  /** `fn` under the request timeout, lengthened by `extraMs` (a stop's grace period). */
  async #call<T>(
    what: string,
    signal: AbortSignal,
    fn: (s: AbortSignal) => Promise<T>,
    extraMs = 0,
  ): Promise<T> {
    const link = linkSignal(signal, this.#timeoutMs + extraMs, this.socketPath, what);
    try {
      return await fn(link.signal);
    } catch (err) {
      throw toContainerError(err, what, this.socketPath, link.signal);
    } finally {
      link.release();
    }
  }
}

interface Link {
  signal: AbortSignal;
  clearTimer(): void;
  release(): void;
}

/** A signal aborted by `parent` or, until `clearTimer`, by a timeout. */
function linkSignal(
  parent: AbortSignal,
  timeoutMs: number,
  socketPath: string,
  what: string,
): Link {
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(parent.reason);
  if (parent.aborted) ctrl.abort(parent.reason);
  else parent.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() =>
    ctrl.abort(
      new ContainerError(
        "E_DOCKER_TIMEOUT",
        `Docker did not answer ${what} within ${timeoutMs} ms`,
        { socketPath, timeoutMs },
      ),
    ), timeoutMs);
  return {
    signal: ctrl.signal,
    clearTimer: () => clearTimeout(timer),
    release: () => {
      clearTimeout(timer);
      parent.removeEventListener("abort", onAbort);
    },
  };
}

async function* readEvents(
  stream: NodeReadable,
  signal: AbortSignal,
  socketPath: string,
  close: () => void,
): AsyncGenerator<DockerEvent> {
  const dec = new TextDecoder();
  let buf = "";
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
      buf += typeof chunk === "string" ? chunk : dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const ev = parseEvent(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (ev) yield ev;
      }
    }
  } catch (err) {
    throw toContainerError(err, "events", socketPath, signal);
  } finally {
    close();
  }
}

/**
 * One line of the events stream; undefined for a blank or malformed line (a damaged line
 * must not end the subscription).
 *
 * @example
 * ```ts
 * import { parseEvent } from "./docker_api.ts";
 * const ev = parseEvent('{"Type":"container","Action":"rename","Actor":{"ID":"ab",' +
 *   '"Attributes":{"name":"new","oldName":"/old"}}}');
 * console.assert(ev?.action === "rename" && ev.attributes.name === "new");
 * ```
 */
export function parseEvent(line: string): DockerEvent | undefined {
  const text = line.trim();
  if (text === "") return undefined;
  try {
    const raw = JSON.parse(text) as {
      Action?: string;
      status?: string;
      id?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
    };
    const action = raw.Action ?? raw.status;
    const id = raw.Actor?.ID ?? raw.id;
    if (typeof action !== "string" || typeof id !== "string") return undefined;
    return { action, id, attributes: raw.Actor?.Attributes ?? {} };
  } catch {
    return undefined;
  }
}

/** The ContainerError for anything a Docker call threw. */
export function toContainerError(
  err: unknown,
  what: string,
  socketPath: string,
  signal?: AbortSignal,
): ContainerError {
  if (err instanceof ContainerError) return err;
  if (signal?.aborted && signal.reason instanceof ContainerError) return signal.reason;
  const e = err as { code?: string; statusCode?: number; json?: { message?: string } };
  const ctx = { socketPath, call: what };
  switch (e?.code) {
    case "ENOENT":
      return new ContainerError(
        "E_DOCKER_UNAVAILABLE",
        `No Docker socket at ${socketPath} (is dockerd running?)`,
        ctx,
        { cause: err },
      );
    case "ECONNREFUSED":
      return new ContainerError(
        "E_DOCKER_UNAVAILABLE",
        `Docker refused the connection on ${socketPath} (dockerd is not listening)`,
        ctx,
        { cause: err },
      );
    case "EACCES":
    case "EPERM":
      return new ContainerError(
        "E_DOCKER_UNAVAILABLE",
        `No permission to connect to ${socketPath}`,
        ctx,
        { cause: err },
      );
  }
  if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
    return new ContainerError(
      "E_DOCKER_UNAVAILABLE",
      `Deno permissions do not allow talking to Docker on ${socketPath}: ${errorMessage(err)}`,
      ctx,
      { cause: err },
    );
  }
  if (typeof e?.statusCode === "number") {
    const msg = e.json?.message ?? errorMessage(err);
    return new ContainerError(
      "E_DOCKER_API",
      `Docker answered ${what} with ${e.statusCode}: ${msg}`,
      { ...ctx, status: e.statusCode },
      { cause: err },
    );
  }
  return new ContainerError(
    "E_DOCKER_UNAVAILABLE",
    `Docker ${what} on ${socketPath} failed: ${errorMessage(err)}`,
    ctx,
    { cause: err },
  );
}

/**
 * State conflicts that Docker 20.10 (Debian 12's docker.io) answers with 500 rather than 409:
 * retrying cannot help, so they are refused, not transient.
 */
export const CONFLICTS: readonly RegExp[] = [
  /\bis not paused\b/i,
  /\bis already paused\b/i,
  /\bis not running\b/i,
  /\bis paused\b/i,
  /\bis restarting\b/i,
  /\bis not connected to (the )?network\b/i,
  /\balready exists in network\b/i,
  /\bremoval of container .* is already in progress\b/i,
];

/**
 * The ContainerActionError for a failed container action (`what`, e.g. `pause`, on `ref`):
 * `gone` for Docker's 404 "No such container"; `transient` when Docker could not be reached,
 * did not answer in time or answered 5xx; otherwise refused (409 "already paused", 400 "invalid
 * signal", a 404 for an unknown network, …), with Docker's own message. A 500 whose message is
 * one of the state conflicts Docker before 23.0 answered with 500 instead of 409 (`CONFLICTS`)
 * is refused too, since retrying it cannot succeed. A 404 that does not say "No such
 * container" (a network, an endpoint) is refused here; the inventory then asks Docker whether
 * the container still exists.
 *
 * @example
 * ```ts
 * import { ContainerError, toActionError } from "./mod.ts";
 * const e = toActionError(
 *   new ContainerError("E_DOCKER_API", "Docker answered pause with 409: paused", { status: 409 }),
 *   "pause",
 *   "web",
 *   "/var/run/docker.sock",
 * );
 * console.assert(!e.gone && !e.transient && e.status === 409);
 * ```
 */
export function toActionError(
  err: unknown,
  what: string,
  ref: string,
  socketPath: string,
): ContainerActionError {
  if (err instanceof ContainerActionError) return err;
  const ce = toContainerError(err, what, socketPath);
  const status = typeof ce.context.status === "number" ? ce.context.status : undefined;
  if (status === undefined) {
    return new ContainerActionError(`Cannot ${what} ${ref}: ${ce.message}`, {
      transient: true,
      cause: ce,
    });
  }
  const raw = ce.cause as { json?: { message?: unknown } } | undefined;
  const said = typeof raw?.json?.message === "string" ? raw.json.message : ce.message;
  if (status === 404 && /no such container/i.test(said)) {
    return new ContainerActionError(`Cannot ${what} ${ref}: ${said}`, {
      gone: true,
      status,
      cause: ce,
    });
  }
  if (status >= 500 && !CONFLICTS.some((re) => re.test(said))) {
    return new ContainerActionError(`Docker failed to ${what} ${ref} (${status}): ${said}`, {
      transient: true,
      status,
      cause: ce,
    });
  }
  return new ContainerActionError(`Docker refused to ${what} ${ref} (${status}): ${said}`, {
    status,
    cause: ce,
  });
}
