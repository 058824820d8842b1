"""Inventory bookkeeping for a small workshop.

Written for OmniCoder's tests: the trained default model never saw this file, so its
perplexity here measures what the model learned about Python, not what it memorized.
"""

import csv
import os
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Item:
    name: str
    quantity: int = 0
    price: float = 0.0
    tags: list = field(default_factory=list)

    def total_value(self):
        return self.quantity * self.price

    def is_low(self, threshold=5):
        return self.quantity < threshold


class Inventory:
    """A collection of items indexed by name."""

    def __init__(self):
        self._items = {}

    def __len__(self):
        return len(self._items)

    def __contains__(self, name):
        return name in self._items

    def add(self, name, quantity=1, price=0.0):
        if quantity < 0:
            raise ValueError("quantity must not be negative")
        item = self._items.get(name)
        if item is None:
            item = Item(name, quantity, price)
            self._items[name] = item
        else:
            item.quantity += quantity
            if price:
                item.price = price
        return item

    def remove(self, name, quantity=1):
        item = self._items[name]
        if quantity > item.quantity:
            raise ValueError(f"only {item.quantity} of {name} left")
        item.quantity -= quantity
        if item.quantity == 0:
            del self._items[name]

    def low_stock(self, threshold=5):
        return sorted(item.name for item in self._items.values() if item.is_low(threshold))

    def value(self):
        return sum(item.total_value() for item in self._items.values())

    def by_tag(self):
        groups = defaultdict(list)
        for item in self._items.values():
            for tag in item.tags:
                groups[tag].append(item.name)
        return {tag: sorted(names) for tag, names in groups.items()}

    def save(self, path):
        tmp = path + ".tmp"
        with open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["name", "quantity", "price", "tags"])
            for item in sorted(self._items.values(), key=lambda i: i.name):
                writer.writerow([item.name, item.quantity, item.price, ";".join(item.tags)])
        os.replace(tmp, path)

    @classmethod
    def load(cls, path):
        inventory = cls()
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                item = inventory.add(row["name"], int(row["quantity"]), float(row["price"]))
                item.tags = [t for t in row["tags"].split(";") if t]
        return inventory


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="Show the state of an inventory file.")
    parser.add_argument("path")
    parser.add_argument("--threshold", type=int, default=5)
    args = parser.parse_args(argv)
    inventory = Inventory.load(args.path)
    print(f"{len(inventory)} items, total value {inventory.value():.2f}")
    for name in inventory.low_stock(args.threshold):
        print(f"low: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
