from simcomp import joints as J


def test_lsp14_from_smpl_names_match():
    names = [J.SMPL_JOINT_NAMES[i] for i in J.SMPL_TO_LSP14]
    assert names == [n if n != "head" else "head" for n in J.LSP14_JOINT_NAMES]


def test_heatmap_joints_are_lsp_minus_neck_head():  # SPEC R23
    assert len(J.SMPL_TO_HEATMAP12) == 12
    assert "neck" not in J.HEATMAP_JOINT_NAMES and "head" not in J.HEATMAP_JOINT_NAMES


def test_leg_joints():  # SPEC R18
    names = {J.SMPL_JOINT_NAMES[i] for i in J.SMPL_LEG_JOINTS}
    assert names == {f"{s}_{p}" for s in ("left", "right") for p in ("hip", "knee", "ankle")}


def test_coco_maps_name_the_same_joints():
    for coco_names, mapping in (
        (J.COCO18_JOINT_NAMES, J.COCO18_TO_LSP14),
        (J.COCO17_JOINT_NAMES, J.COCO17_TO_LSP14),
    ):
        for lsp_name, idx in zip(J.LSP14_JOINT_NAMES, mapping, strict=True):
            if idx is None:
                assert lsp_name in ("head", "neck")
            else:
                assert coco_names[idx] == lsp_name
    assert J.COCO18_TO_LSP14[12] == J.COCO18_JOINT_NAMES.index("neck")


def test_parents_and_flip():
    assert len(J.SMPL_PARENTS) == J.NUM_SMPL_JOINTS
    assert all(p < j for j, p in enumerate(J.SMPL_PARENTS))
    assert J.SMPL_JOINT_NAMES[J.SMPL_FLIP[J.SMPL_JOINT_NAMES.index("left_wrist")]] == "right_wrist"
    assert [J.SMPL_FLIP[i] for i in J.SMPL_FLIP] == list(range(24))
