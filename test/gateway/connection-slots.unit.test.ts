// The connection cap's slots alone: taken before a token check, given back once, handed to the open count.
import { ConnectionSlots } from '../../gateway/connection-slots';

describe('ConnectionSlots', () => {
  test('slots taken and connections open share the cap; a slot given back twice counts once', () => {
    let open = 0;
    let closing = false;
    const slots = new ConnectionSlots({ max: 3, open: () => open, closing: () => closing });
    const a = slots.reserve();
    const b = slots.reserve();
    expect(a && b).toBeDefined();
    open = 1;
    expect(slots.reserve()).toBeUndefined(); // 1 open + 2 taken
    expect(slots.full()).toBe(true);
    a!();
    a!(); // again: nothing more is given back
    expect(slots.pending).toBe(1);
    const c = slots.reserve();
    expect(c).toBeDefined();
    expect(slots.reserve()).toBeUndefined();
    // Handed over: the connection is now in the open count, and its slot no longer is.
    open = 2;
    b!();
    expect(slots.pending).toBe(1);
    expect(slots.full()).toBe(true);
    c!();
    expect(slots.full()).toBe(false);
    closing = true;
    expect(slots.closing).toBe(true);
    expect(slots.reserve()).toBeUndefined();
  });
});
