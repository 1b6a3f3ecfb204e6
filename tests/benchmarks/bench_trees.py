"""Fixture trees in the original release layouts of the public benchmark sets.

Each builder writes a few files exactly as the authors distribute them (file
names, folder names, JSON shapes), so the adapters are tested against the
layout they will meet, without the data itself (which is never copied into
the repository).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pandas as pd

# ----------------------------------------------------------------------------- CED

#: (stem, label, post unix time, user or None, repost dates in Beijing time)
CED_POSTS = [
    ("0_yBmepBtUB_2279086572", 1, 1347334462,
     {"verified": False, "description": True, "gender": "f", "messages": 5653,
      "followers": 227833, "location": "上海", "time": 1312112304, "friends": 907,
      "verified_type": -1},
     # published 2012-09-11 03:34:22 UTC = 11:34:22 Beijing
     ["2012-09-11 11:40:00", "2012-09-11 12:10:00", "2012-09-11 12:20:00",
      "2012-09-11 14:00:00", "2012-09-11 11:00:00",  # before the post
      "2012-09-20 10:00:00"]),  # after 72 h
    ("1002_zne7v6NMq_2464670392", 0, 1363146924,
     {"verified": True, "messages": 76, "followers": 66, "time": 1318493987, "friends": 82},
     ["2013-03-13 11:56:00", "2013-03-13 11:57:00"]),
    ("1003_AcDAZonRf_2464670392", 0, 1363246924,  # same poster, later post
     {"verified": True, "messages": 80, "followers": 70, "time": 1318493987, "friends": 82},
     []),
    ("1004_zvUcLCeTm_3186420187", 1, 1363346924, None,  # poster metadata missing
     ["2013-03-15 19:30:00"]),
]


def write_ced_tree(root: Path) -> Path:
    base = root / "Chinese_Rumor_Dataset" / "CED_Dataset"
    for folder in ("original-microblog", "rumor-repost", "non-rumor-repost"):
        (base / folder).mkdir(parents=True)
    (base / "README.md").write_text("# 微博谣言数据集\n", encoding="utf-8")
    for stem, label, t, user, dates in CED_POSTS:
        post = {"multi": None, "text": f"微博原文 {stem} 据网友称", "user": user,
                "has_url": False, "comments": 3, "pics": 1, "source": "微博 weibo.com",
                "likes": 0, "time": t, "reposts": len(dates)}
        (base / "original-microblog" / f"{stem}.json").write_text(
            json.dumps(post, ensure_ascii=False, indent=0), encoding="utf-8")
        reposts = [{"kids": [], "uid": f"u{i}", "parent": "", "text": "转发微博。",
                    "mid": f"m{i}", "date": d} for i, d in enumerate(dates)]
        folder = "rumor-repost" if label else "non-rumor-repost"
        (base / folder / f"{stem}.json").write_text(
            json.dumps(reposts, ensure_ascii=False, indent=0), encoding="utf-8")
    return root / "Chinese_Rumor_Dataset"


# ----------------------------------------------------------------------------- Ott

OTT_FOLDERS = {
    ("positive", 1): "deceptive_from_MTurk",
    ("positive", 0): "truthful_from_TripAdvisor",
    ("negative", 1): "deceptive_from_MTurk",
    ("negative", 0): "truthful_from_Web",
}
OTT_HOTELS = {"fold1": "hilton", "fold2": "affinia"}


def write_ott_tree(root: Path) -> Path:
    base = root / "op_spam_v1.4"
    base.mkdir(parents=True)
    (base / "README.md").write_text("Deceptive Opinion Spam Corpus v1.4\n")
    for (polarity, label), cls in OTT_FOLDERS.items():
        for fold, hotel in OTT_HOTELS.items():
            d = base / f"{polarity}_polarity" / cls / fold
            d.mkdir(parents=True)
            for i in (1, 2):
                c = "d" if label else "t"
                text = (f"{'Great' if polarity == 'positive' else 'Awful'} stay at the "
                        f"{hotel}. Review {c}{i}, {'my husband and I' if label else 'room 12'}.\n")
                (d / f"{c}_{hotel}_{i}.txt").write_text(text)
    return base


# ----------------------------------------------------------------------------- Weibo21

WEIBO21_ROWS = {
    "train": [("【三星折叠屏原型机曝光】网友晒出三星的可折叠手机", 0, "科技"),
              ("网传某地发生地震，多人遇难，请扩散！", 1, "灾难事故"),
              ("喝醋能软化血管，赶快告诉家人", 1, "医药健康")],
    "val": [("教育部发布高考报名通知", 0, "教育考试"),
            ("某明星宣布退出娱乐圈", 1, "无法确定")],
    "test": [("央行宣布降准0.5个百分点", 0, "财经商业"),
             ("吃香蕉能治愈癌症", 1, "医药健康")],
}


def write_weibo21_tree(root: Path, fmt: str = "pkl") -> Path:
    base = root / "MDFEND-Weibo21" / "data"
    base.mkdir(parents=True)
    for split, rows in WEIBO21_ROWS.items():
        df = pd.DataFrame(rows, columns=["content", "label", "category"])
        if fmt == "pkl":
            with open(base / f"{split}.pkl", "wb") as f:
                pickle.dump(df, f)
        elif fmt == "json":
            (base / f"{split}.json").write_text(
                df.to_json(orient="records", force_ascii=False), encoding="utf-8")
        else:
            (base / f"{split}.jsonl").write_text(
                df.to_json(orient="records", force_ascii=False, lines=True), encoding="utf-8")
    return base
