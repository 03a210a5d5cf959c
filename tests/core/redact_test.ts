import { redact, redactText } from "../../mod/core/mod.ts";
import { assertEquals } from "../helpers/assert.ts";

Deno.test("redaction", async (t) => {
  await t.step("URL passwords and bare tokens are masked, the rest kept", () => {
    assertEquals(
      redactText("postgresql://ironpost:s3cr3t@db:5432/ironpost"),
      "postgresql://ironpost:***@db:5432/ironpost",
    );
    assertEquals(redactText("redis://:tok@localhost:6379/0"), "redis://:***@localhost:6379/0");
    assertEquals(redactText("rediss://tok@cache:6380"), "rediss://***@cache:6380");
    assertEquals(redactText("redis://localhost:6379/0"), "redis://localhost:6379/0");
    assertEquals(redactText("see http://h/x and ftp://u:p@h"), "see http://h/x and ftp://u:***@h");
  });

  await t.step("secret-looking keys are masked deep in objects", () => {
    assertEquals(
      redact({ a: { password: "x", api_key: "y", url: "amqp://u:p@h" }, list: ["s://u:p@h"] }),
      { a: { password: "***", api_key: "***", url: "amqp://u:***@h" }, list: ["s://u:***@h"] },
    );
  });
});
