/**
 * What a container was like before the guard first acted on it (paused or not, the
 * networks it was attached to with their aliases), kept in the store so that
 * `ironpost guard release` restores exactly that, even after the agent restarted.
 */
import type { CheckpointStore, ContainerNetwork, ContainerStatus } from "../core/mod.ts";

/** One container's state before the guard's first action on it. */
export interface PriorState {
  id: string;
  name: string;
  image: string;
  paused: boolean;
  networks: ContainerNetwork[];
  /** What the guard did since (`pause`, `isolate`, …), oldest first. */
  actions: string[];
  /** When the first action was taken (ISO 8601). */
  since: string;
}

const PREFIX = "guard.prior.";
const INDEX = "guard.prior";

/** The prior states of the containers the guard has acted on and not released. */
export class PriorStates {
  readonly #store: CheckpointStore;
  #ids?: Set<string>;

  constructor(store: CheckpointStore) {
    this.#store = store;
  }

  /**
   * Remember `status` as the state before `action`, unless a state is already recorded (a
   * second action must not record the state the first one made).
   */
  async record(status: ContainerStatus, action: string): Promise<PriorState> {
    const had = await this.get(status.id);
    const state: PriorState = had ? { ...had, actions: [...had.actions, action] } : {
      id: status.id,
      name: status.name,
      image: status.image,
      paused: status.state === "paused",
      networks: status.networks,
      actions: [action],
      since: new Date().toISOString(),
    };
    await this.#store.setCheckpoint(PREFIX + status.id, JSON.stringify(state));
    const ids = await this.#index();
    if (!ids.has(status.id)) {
      ids.add(status.id);
      await this.#store.setCheckpoint(INDEX, JSON.stringify([...ids]));
    }
    return state;
  }

  async get(id: string): Promise<PriorState | undefined> {
    const raw = await this.#store.getCheckpoint(PREFIX + id);
    return raw ? JSON.parse(raw) as PriorState : undefined;
  }

  /** The recorded state of the container with this id, id prefix or name. */
  async find(ref: string): Promise<PriorState | undefined> {
    for (const id of await this.#index()) {
      const s = await this.get(id);
      if (s && (s.id === ref || s.name === ref || (ref.length >= 12 && s.id.startsWith(ref)))) {
        return s;
      }
    }
    return undefined;
  }

  async list(): Promise<PriorState[]> {
    const out: PriorState[] = [];
    for (const id of await this.#index()) {
      const s = await this.get(id);
      if (s) out.push(s);
    }
    return out;
  }

  /** Forget a container's state (released, or the container is gone). */
  async forget(id: string): Promise<void> {
    await this.#store.setCheckpoint(PREFIX + id, "");
    const ids = await this.#index();
    if (ids.delete(id)) await this.#store.setCheckpoint(INDEX, JSON.stringify([...ids]));
  }

  async #index(): Promise<Set<string>> {
    if (!this.#ids) {
      const raw = await this.#store.getCheckpoint(INDEX);
      this.#ids = new Set(raw ? JSON.parse(raw) as string[] : []);
    }
    return this.#ids;
  }
}
