/**
 * The gateway's connection cap (GATEWAY_MAX_CONNECTIONS), shared by both transports. A connection
 * takes its slot before its token is checked, synchronously, so attempts waiting on the check hold
 * places: however many arrive at once, no more can pass the check than there are places. A slot is
 * given back when its attempt fails, or handed over once the connection is in the transport's own
 * count (the open connections), so it is never counted twice.
 */
export interface ConnectionSlotOptions {
  max: number;
  /** Connections open on both transports now (each transport's own count). */
  open: () => number;
  /** True once the gateway is shutting down: no new connection. */
  closing: () => boolean;
}

/** Gives a slot back (or hands it over to the open count); calling it again does nothing. */
export type SlotRelease = () => void;

export class ConnectionSlots {
  /** Slots taken by attempts not yet in the open count (their token is being checked, or they are being set up). */
  private reserved = 0;

  constructor(private readonly opts: ConnectionSlotOptions) {}

  /** True when no further connection may start: shutting down, or every place open or taken. */
  full(): boolean {
    return this.opts.closing() || this.opts.open() + this.reserved >= this.opts.max;
  }

  get closing(): boolean {
    return this.opts.closing();
  }

  /** Takes a place for a connection about to be checked; undefined when there is none. */
  reserve(): SlotRelease | undefined {
    if (this.full()) return undefined;
    this.reserved += 1;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.reserved -= 1;
    };
  }

  /** Slots taken and not yet handed over (for tests and leak checks). */
  get pending(): number {
    return this.reserved;
  }
}
