/**
 * A binary min-heap over an array. `precedes(a, b)` must be a strict total
 * order on the items it will hold (the scheduler breaks time ties with a
 * sequence number), so the pop order is fully determined by the items.
 */
export class BinaryHeap<Item> {
  private items: Item[] = [];

  constructor(private readonly precedes: (a: Item, b: Item) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): Item | undefined {
    return this.items[0];
  }

  push(item: Item): void {
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  pop(): Item | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (top !== undefined && last !== undefined && this.items.length > 0) {
      this.items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Keeps only the items for which `keep` holds, in O(n). */
  retain(keep: (item: Item) => boolean): void {
    this.items = this.items.filter(keep);
    // Floyd's construction: sift down every parent, from the last one to the root.
    for (let index = (this.items.length >> 1) - 1; index >= 0; index -= 1) {
      this.siftDown(index);
    }
  }

  // Each sift moves one level per iteration, so both loops end within
  // log2(size) + 1 iterations.
  private siftUp(start: number): void {
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.precedes(this.at(index), this.at(parent))) {
        return;
      }
      this.swap(index, parent);
      index = parent;
    }
  }

  private siftDown(start: number): void {
    let index = start;
    const size = this.items.length;
    while (true) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < size && this.precedes(this.at(left), this.at(smallest))) {
        smallest = left;
      }
      if (right < size && this.precedes(this.at(right), this.at(smallest))) {
        smallest = right;
      }
      if (smallest === index) {
        return;
      }
      this.swap(index, smallest);
      index = smallest;
    }
  }

  private at(index: number): Item {
    // Callers only pass indices below `size`.
    return this.items[index] as Item;
  }

  private swap(first: number, second: number): void {
    const item = this.at(first);
    this.items[first] = this.at(second);
    this.items[second] = item;
  }
}
