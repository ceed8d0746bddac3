import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Inflights } from "./inflights.ts";

describe("Inflights", () => {
  it("fills up by message count and frees by acknowledged index", () => {
    const window = new Inflights(3, Number.POSITIVE_INFINITY);
    window.add(5, 10);
    window.add(7, 10);
    expect(window.full()).toBe(false);
    window.add(9, 10);
    expect(window.full()).toBe(true);
    window.freeLE(6);
    expect(window.messageCount).toBe(2);
    expect(window.full()).toBe(false);
    window.add(12, 1);
    window.freeLE(100);
    expect(window.messageCount).toBe(0);
    expect(window.byteCount).toBe(0);
  });

  it("fills up by bytes, letting one message overshoot", () => {
    const window = new Inflights(10, 100);
    window.add(1, 60);
    expect(window.full()).toBe(false);
    window.add(2, 60);
    expect(window.full()).toBe(true);
    window.freeLE(1);
    expect(window.full()).toBe(false);
    expect(window.byteCount).toBe(60);
  });

  it("refuses to add to a full window and refuses decreasing indexes", () => {
    const window = new Inflights(1, Number.POSITIVE_INFINITY);
    window.add(4, 1);
    expect(() => window.add(5, 1)).toThrow(/full/);
    window.freeLE(4);
    window.add(6, 1);
    window.freeLE(5);
    expect(window.messageCount).toBe(1);
    expect(() => new Inflights(0, 1)).toThrow();
  });

  it("matches a plain queue model under random use", () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), bytes: fc.nat({ max: 50 }) }),
      fc.record({ kind: fc.constant("free" as const), back: fc.nat({ max: 5 }) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(operation, { maxLength: 60 }),
        (max, ops) => {
          const window = new Inflights(max, 200);
          const model: { index: number; bytes: number }[] = [];
          let next = 1;
          for (const op of ops) {
            if (op.kind === "add") {
              const modelFull =
                model.length >= max || model.reduce((sum, m) => sum + m.bytes, 0) >= 200;
              expect(window.full()).toBe(modelFull);
              if (modelFull) continue;
              window.add(next, op.bytes);
              model.push({ index: next, bytes: op.bytes });
              next += 2;
            } else {
              const to = next - op.back;
              window.freeLE(to);
              while (model.length > 0 && (model[0]?.index ?? 0) <= to) model.shift();
            }
            expect(window.messageCount).toBe(model.length);
            expect(window.byteCount).toBe(model.reduce((sum, m) => sum + m.bytes, 0));
          }
        },
      ),
    );
  });
});
