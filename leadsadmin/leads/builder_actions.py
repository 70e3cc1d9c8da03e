"""The filter builder's buttons: each one a change to the filter tree.

The buttons submit ``do=<verb>:<target>`` with the builder's form, so they work
without JavaScript; the view applies the action and shows the changed tree.
"""

from __future__ import annotations

from leadsadmin.leads.filters import GROUP_PATH, Condition, FilterTree, Group, number_rows


def filter_apply_action(tree: FilterTree, action: str) -> FilterTree:
    """Applies one builder button (``do=<verb>:<target>``) to the tree.

    ``add-condition:<path>`` appends an empty condition to the group at path;
    ``add-group:`` appends a top-level group holding one empty condition;
    ``add-group:<path>`` nests a group (opposite combinator) in the group at path;
    ``remove:<row>`` removes condition `row`, and the groups it leaves empty;
    ``clear`` empties the filter. Unknown actions change nothing.
    """
    verb, _, target = action.partition(":")
    if verb == "clear":
        return FilterTree()
    if verb == "remove" and target.isdigit():
        _remove_row(tree, int(target))
        if rest := number_rows(tree).conditions():
            rest[min(int(target), len(rest) - 1)].focused = True
    elif verb == "add-group" and not target:
        tree.groups.append(Group(depth=1, items=[Condition(focused=True)]))
    elif verb in ("add-group", "add-condition"):
        group = _group_by_path(tree, target)
        if group is not None and verb == "add-condition":
            group.items.append(Condition(focused=True))
        elif group is not None and group.can_nest:
            group.items.append(Group(depth=group.depth + 1, items=[Condition(focused=True)]))
    return number_rows(tree)


def filter_action_changes_where(action: str) -> bool:
    """Whether a builder button can change what the filter matches. Adding rows
    adds blank conditions, which send nothing; removing and clearing do change it,
    so the preview must follow."""
    return action == "clear" or action.startswith("remove:")


def _group_by_path(tree, path: str) -> Group | None:
    if not GROUP_PATH.match(path):
        return None
    numbers = [int(n) for n in path.split(".")]
    if numbers[0] >= len(tree.groups):
        return None
    group = tree.groups[numbers[0]]
    for number in numbers[1:]:
        nested = [item for item in group.items if isinstance(item, Group)]
        if number >= len(nested):
            return None
        group = nested[number]
    return group


def _remove_row(tree, row: int):
    def prune(group: Group) -> bool:
        kept = []
        for item in group.items:
            if isinstance(item, Group):
                if prune(item):
                    kept.append(item)
            elif item.index != row:
                kept.append(item)
        group.items = kept
        return bool(kept)

    number_rows(tree)
    tree.groups = [group for group in tree.groups if prune(group)]
