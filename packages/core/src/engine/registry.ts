/** One member's place in a {@link Registry} (returned by {@link Registry.add}). */
export interface RegistrySlot<T> {
  /** The member; `undefined` once the slot was removed (a removed slot holds nothing alive). */
  readonly value: T | undefined;
  /** @internal */ prev: RegistrySlot<T> | undefined;
  /** @internal */ next: RegistrySlot<T> | undefined;
}

/** A slot as the registry itself sees it: it lets go of the member on removal. */
interface OwnSlot<T> extends RegistrySlot<T> {
  value: T | undefined;
}

/**
 * The members a long-lived object tracks while they are live — pending reply deadlines, held
 * leases, calls still running — as a doubly linked list: adding is one link, removing is an
 * unlink through the slot `add` returned.
 *
 * Not a `Set`, on purpose. A long-lived `Set` with an add and a delete per Redis call rehashes
 * into a new table every so often, and the discarded table, old-generation garbage by then,
 * still points at the members it held; V8's young-generation collector keeps those alive and
 * promotes them with everything they reference (a caller's whole promise chain). Under load that
 * was a steady stream of full collections (with `--trace-gc`, 200 000 Redlock lock+release pairs
 * went from 41 mark-compacts to 1 once these sets, and the callbacks a settled call held, were
 * gone). A removed slot is unlinked both ways and drops its member.
 *
 * Dropping the member matters as much as the unlinking. A removed slot usually lives on in a
 * cycle with its member (a lease keeps its slot to remove itself). Once V8 allocates objects of
 * this path straight in the old generation (allocation-site pretenuring: it saw them survive),
 * a removed slot can be old garbage that keeps its member alive through every young collection
 * until the next full one, and the members surviving confirms V8's decision. With a real
 * ioredis connection an uncontended `Mutex` loop promoted ~1 KB per lock into the old
 * generation this way (`--trace-pretenuring-statistics` showed sites tenured at a 100 % survival
 * rate); with the member cleared on removal, ~50 bytes, as much as the bare driver calls.
 */
export class Registry<T> {
  private head: RegistrySlot<T> | undefined;
  private count = 0;

  /** Number of members. */
  get size(): number {
    return this.count;
  }

  /** Add `value`; keep the slot to remove it. */
  add(value: T): RegistrySlot<T> {
    const slot: OwnSlot<T> = { value, prev: undefined, next: this.head };
    if (this.head) this.head.prev = slot;
    this.head = slot;
    this.count++;
    return slot;
  }

  /** Remove the member of `slot`; `false` when it was removed already. */
  delete(slot: RegistrySlot<T>): boolean {
    const own = slot as OwnSlot<T>;
    const { prev, next } = own;
    if (prev) prev.next = next;
    else if (this.head === slot) this.head = next;
    else return false;
    if (next) next.prev = prev;
    own.prev = own.next = undefined;
    own.value = undefined;
    this.count--;
    return true;
  }

  /** The slots, newest first (a snapshot: removing members while going through it is safe). */
  slots(): RegistrySlot<T>[] {
    const out: RegistrySlot<T>[] = [];
    for (let slot = this.head; slot; slot = slot.next) out.push(slot);
    return out;
  }

  /** The members, newest first (a snapshot). */
  values(): T[] {
    const out: T[] = [];
    for (let slot = this.head; slot; slot = slot.next) out.push(slot.value as T);
    return out;
  }
}
