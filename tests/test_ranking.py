from qa.ranking import stage_order


def test_stage_order_resorts_only_the_head_by_the_second_stage():
    first = [0.1, 0.9, 0.5, 0.7, 0.3]
    seen = []

    def second(head: list[int]) -> list[float]:
        seen.append(list(head))
        return [{1: 0.2, 3: 0.8, 2: 0.5}[i] for i in head]

    assert stage_order(first, 3, second) == [3, 2, 1, 4, 0]
    assert seen == [[1, 3, 2]]  # only the best three by the first stage are scored again


def test_stage_order_without_a_second_stage_is_the_first_stage_order():
    assert stage_order([0.2, 0.4, 0.4, 0.1], 2, None) == [1, 2, 0, 3]  # ties keep the earlier order


def test_stage_order_with_ties_in_the_second_stage_keeps_the_first_stage_order():
    assert stage_order([0.9, 0.8, 0.7], 3, lambda head: [0.5] * len(head)) == [0, 1, 2]
    assert stage_order([], 3, lambda head: []) == []
