/**
 * Parsing of the cgroup names and /proc texts the inventory relies on, from a hybrid host
 * (captured here) and a pure cgroup v2 host with Docker's systemd driver.
 */
import {
  Backoff,
  containerIdFromCgroup,
  isContainerId,
  parseCgroupMounts,
  parseEvent,
  parseProcCgroup,
} from "../../mod/containers/mod.ts";
import { cgroupDir } from "../../mod/containers/proc_view.ts";
import { assertEquals } from "../helpers/assert.ts";

const FIXTURES = new URL("../fixtures/containers/", import.meta.url);
const fixture = (name: string) => Deno.readTextFileSync(new URL(name, FIXTURES));

const HYBRID_ID = "7dc2de451693d764152256a2508cd15c8db263a1cab88a44facd0c7887e9f9aa";
const SYSTEMD_ID = "3f0e1c5b8a7d6e4f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f";

Deno.test("cgroup names and /proc texts", async (t) => {
  await t.step("container id from the leaf names Docker gives", () => {
    assertEquals(containerIdFromCgroup(HYBRID_ID), HYBRID_ID);
    assertEquals(containerIdFromCgroup(`docker-${SYSTEMD_ID}.scope`), SYSTEMD_ID);
    assertEquals(containerIdFromCgroup(`/docker/${HYBRID_ID}`), HYBRID_ID);
    assertEquals(containerIdFromCgroup(`/system.slice/docker-${SYSTEMD_ID}.scope`), SYSTEMD_ID);
    for (
      const no of [
        "",
        "/",
        "user.slice",
        "docker.service",
        HYBRID_ID.slice(1),
        HYBRID_ID.toUpperCase(),
        `${HYBRID_ID}0`,
        `docker-${HYBRID_ID}.scope/init`,
        `cri-containerd-${HYBRID_ID}.scope`,
        `/docker/${HYBRID_ID}/child`,
      ]
    ) {
      assertEquals(containerIdFromCgroup(no), undefined, no);
    }
    assertEquals(isContainerId(HYBRID_ID), true);
    assertEquals(isContainerId(HYBRID_ID.slice(0, 12)), false);
  });

  await t.step("hybrid host: v1 controllers and cgroup2 at /sys/fs/cgroup/unified", () => {
    const m = parseCgroupMounts(fixture("hybrid_mountinfo.txt"));
    assertEquals(m.v2, { root: "/", mountPoint: "/sys/fs/cgroup/unified" });
    assertEquals(m.v1.pids, { root: "/", mountPoint: "/sys/fs/cgroup/pids" });
    assertEquals(m.v1["name=systemd"], { root: "/", mountPoint: "/sys/fs/cgroup/systemd" });
    assertEquals(Object.keys(m.v1).includes("rw"), false);
    const c = parseProcCgroup(fixture("hybrid_cgroup.txt"));
    assertEquals(c.v2, `/docker/${HYBRID_ID}`);
    assertEquals(c.v1.pids, `/docker/${HYBRID_ID}`);
    assertEquals(cgroupDir(m.v2!, c.v2!), `/sys/fs/cgroup/unified/docker/${HYBRID_ID}`);
  });

  await t.step("pure v2 host with the systemd driver", () => {
    const m = parseCgroupMounts(fixture("v2_systemd_mountinfo.txt"));
    assertEquals(m.v2, { root: "/", mountPoint: "/sys/fs/cgroup" });
    assertEquals(m.v1, {});
    const c = parseProcCgroup(fixture("v2_systemd_cgroup.txt"));
    assertEquals(c.v2, `/system.slice/docker-${SYSTEMD_ID}.scope`);
    assertEquals(
      cgroupDir(m.v2!, c.v2!),
      `/sys/fs/cgroup/system.slice/docker-${SYSTEMD_ID}.scope`,
    );
  });

  await t.step("combined controllers, escaped mount points, a mount below the root", () => {
    const m = parseCgroupMounts(
      "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n" +
        "40 30 0:37 /docker/x /mnt/my\\040cgroup rw - cgroup2 cgroup2 rw\n",
    );
    assertEquals(m.v1.cpu.mountPoint, "/sys/fs/cgroup/cpu,cpuacct");
    assertEquals(m.v1.cpuacct.mountPoint, "/sys/fs/cgroup/cpu,cpuacct");
    assertEquals(m.v2, { root: "/docker/x", mountPoint: "/mnt/my cgroup" });
    assertEquals(cgroupDir(m.v2!, "/docker/x/y"), "/mnt/my cgroup/y");
    assertEquals(cgroupDir(m.v2!, "/docker/x"), "/mnt/my cgroup");
    assertEquals(cgroupDir(m.v2!, "/docker/xy"), undefined);
    assertEquals(parseProcCgroup("2:cpu,cpuacct:/a\n").v1, { cpu: "/a", cpuacct: "/a" });
  });

  await t.step("events stream lines", () => {
    assertEquals(
      parseEvent(
        `{"status":"start","id":"${HYBRID_ID}","Type":"container","Action":"start",` +
          `"Actor":{"ID":"${HYBRID_ID}","Attributes":{"name":"web","image":"nginx:1"}}}`,
      ),
      { action: "start", id: HYBRID_ID, attributes: { name: "web", image: "nginx:1" } },
    );
    assertEquals(parseEvent(""), undefined);
    assertEquals(parseEvent("{not json"), undefined);
    assertEquals(parseEvent('{"Type":"container"}'), undefined);
  });

  await t.step("reconnect backoff doubles up to its cap", () => {
    const b = new Backoff(250, 30_000);
    const seen = Array.from({ length: 10 }, () => b.next());
    assertEquals(seen, [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    b.reset();
    assertEquals(b.next(), 250);
  });
});
