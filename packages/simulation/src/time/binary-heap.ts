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
  // log2(size) + 1 iterations. They carry the moving item in a hole rather
  // than swapping: one write per level instead of two.
  private siftUp(start: number): void {
    const items = this.items;
    const item = items[start] as Item;
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentItem = items[parent] as Item;
      if (!this.precedes(item, parentItem)) {
        break;
      }
      items[index] = parentItem;
      index = parent;
    }
    items[index] = item;
  }

  private siftDown(start: number): void {
    const items = this.items;
    const size = items.length;
    const item = items[start] as Item;
    let index = start;
    while (true) {
      const left = 2 * index + 1;
      if (left >= size) {
        break;
      }
      const right = left + 1;
      let child = left;
      let childItem = items[left] as Item;
      if (right < size) {
        const rightItem = items[right] as Item;
        if (this.precedes(rightItem, childItem)) {
          child = right;
          childItem = rightItem;
        }
      }
      if (!this.precedes(childItem, item)) {
        break;
      }
      items[index] = childItem;
      index = child;
    }
    items[index] = item;
  }
}
