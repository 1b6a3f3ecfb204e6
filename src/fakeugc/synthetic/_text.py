"""Compose titles, bodies and bios from the phrase pools.

A post is a sequence of optional segments (intro, purchase, usage, pros, cons,
comparison, verdict, question, tags...), each drawn from a pool, with ``{slot}``
names filled from further pools. The composer for each post type shares pools
with the others on purpose: genuine posts sometimes say 绝了 or yyds, fakes
sometimes carry a usage detail, disclosed partnerships read like seeding.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from fakeugc.synthetic import _pools as P
from fakeugc.synthetic._brands import BRANDS, BY_CATEGORY, CATEGORIES
from fakeugc.synthetic._rand import Picker

GENERIC_PRODUCTS: dict[str, list[str]] = {
    "skincare": ["烟酰胺精华", "防晒", "洗面奶", "面膜", "身体乳", "卸妆油", "面霜", "爽肤水"],
    "makeup": ["粉底液", "口红", "眼影盘", "散粉", "眉笔", "腮红", "气垫"],
    "food": ["火锅", "奶茶", "面包", "咖啡", "烧烤", "早午餐", "小馆子"],
    "travel": ["民宿", "酒店", "自驾路线", "海岛游", "古镇"],
    "fitness": ["蛋白粉", "跑鞋", "瑜伽课", "跳绳", "弹力带"],
    "electronics": ["耳机", "充电宝", "平板", "键盘", "显示器", "手机壳"],
    "fashion": ["牛仔裤", "卫衣", "大衣", "运动鞋", "通勤包"],
    "home": ["收纳盒", "四件套", "香薰", "小夜灯", "拖把"],
    "baby": ["纸尿裤", "奶瓶", "辅食机", "安抚奶嘴", "爬爬垫"],
    "pets": ["猫粮", "猫砂", "狗粮", "逗猫棒", "猫窝"],
}

_PETS = ["猫", "狗", "布偶", "英短", "橘猫", "柯基", "金毛", "泰迪", "小土狗"]
_SIZES = ["S", "M", "L", "XL"]
_CATEGORY_WEIGHT_CUM = list(itertools.accumulate([1.0] * len(CATEGORIES)))
_END = "，。！？～…!?~）)"


def _cum(weights) -> list[float]:
    return list(itertools.accumulate(weights))


@dataclass
class Brief:
    """A paid-intermediary campaign brief: what every post of the campaign must say."""

    category: str
    brand_idx: int
    product: str
    points: list[tuple[str, int]]
    keywords: list[str]
    hashtags: list[str]
    title: str
    opener: str
    persona: str
    cta: str
    mention: str
    extras: dict = field(default_factory=dict)


class Slots(dict):
    """Slot values for one post; unknown slots are drawn on first use and then kept,
    so a price or a duration stays the same within the post."""

    _NOCACHE = frozenset({"emo", "hype2", "k2", "friend", "aspect2", "tag", "effect", "hype"})

    def __init__(self, comp: Composer, category: str, brand: str, product: str, other: str):
        super().__init__()
        self.comp = comp
        self.category = category
        self["brand"] = brand
        self["product"] = product
        self["other"] = other

    def __missing__(self, key: str) -> str:
        value = self.comp._slot(key, self)
        if key not in self._NOCACHE:
            self[key] = value
        return value


class Composer:
    """Text for every kind of post, drawn from one :class:`Picker`."""

    def __init__(self, picker: Picker):
        self.p = picker

    # ------------------------------------------------------------------ helpers

    def _slot(self, key: str, s: Slots) -> str:
        p = self.p
        cat = P.CAT[s.category]
        if key in (
            "persona",
            "part",
            "aspect",
            "ingredient",
            "channel",
            "price",
            "noun",
            "label",
            "effect",
            "pain",
        ):
            return self.fill(p.choice(cat[key]), s)
        if key == "aspect2":
            a = p.choice(cat["aspect"])
            return a if a != s.get("aspect") else p.choice(cat["aspect"])
        if key == "tag":
            return p.choice(cat["tag"])
        if key == "n":
            return p.choice(P.DURATIONS)
        if key == "city":
            return p.choice(P.CITIES)
        if key == "k":
            return str(p.randint(2, 5))
        if key == "k2":
            return str(p.randint(2, 8))
        if key == "wait":
            return p.choice(["15", "20", "30", "40", "50", "60", "90"])
        if key == "height":
            return str(p.randint(150, 176))
        if key == "weight":
            return str(p.randint(85, 145))
        if key == "size":
            return p.choice(_SIZES)
        if key == "months":
            return str(p.randint(1, 18))
        if key == "pet":
            return p.choice(_PETS)
        if key == "pet_age":
            return str(p.randint(1, 9))
        if key == "friend":
            return "@" + self.nickname()
        if key == "emo":
            return p.choice(P.EMOJI_CALM)
        if key == "verdict_short":
            return p.choice(P.VERDICT_SHORT[s.get("_polarity", "mixed")])
        if key in ("hype", "hype2"):
            return p.choice(P.HYPE)
        if key == "niche":
            return p.choice(P.PERSONA_NICHE)
        if key == "absolute":
            return self.evade(p.choice(P.ABSOLUTE), 0.15)
        if key == "discovery":
            return p.choice(P.DISCOVERY)
        if key == "handle":
            return self.handle()
        if key == "qq":
            return str(p.randint(10000000, 999999999))
        if key == "email":
            return self.handle() + p.choice(["@163.com", "@qq.com", "@126.com", "@gmail.com"])
        if key == "keyword":
            return p.choice(P.CAMPAIGN_KEYWORDS)
        if key == "point":
            pts = P.POINTS[s.category]
            return self.fill(p.choice(pts[p.choice(sorted(pts))]), s)
        if key in ("brand", "product", "other"):
            return ""
        return ""

    def fill(self, template: str, s: Slots) -> str:
        if "{" not in template:
            return template
        return template.format_map(s)

    def nickname(self) -> str:
        p = self.p
        name = p.choice(P.NICK_PREFIX) + p.choice(P.NICK_NOUN) + p.choice(P.NICK_SUFFIX)
        if p.chance(0.25):
            name += str(p.randint(1, 2025))
        return name

    def handle(self) -> str:
        p = self.p
        h = p.choice(P.HANDLE_STEM)
        if p.chance(0.5):
            h += p.choice(["_", "", "."])
        return h + str(p.randint(1, 9999))

    def evade(self, word: str, rate: float) -> str:
        """Obfuscate a flagged word the way evaders do: inserted emoji or full-width spaces."""
        p = self.p
        if len(word) < 2 or not p.chance(rate):
            return word
        i = p.randint(1, len(word) - 1)
        sep = p.choice(["😊", "　", "·", " ", "❤", "✨"])
        return word[:i] + sep + word[i:]

    def tag(self, t: str) -> str:
        return f"#{t}[话题]#" if self.p.chance(0.45) else f"#{t}#"

    def tags_line(self, tags: list[str]) -> str:
        if not tags:
            return ""
        return " ".join(self.tag(t) for t in tags)

    def end(self, sentence: str, emoji_rate: float, hype: bool = False) -> str:
        """Close a sentence with punctuation and maybe an emoji."""
        p = self.p
        if not sentence:
            return sentence
        if sentence[-1] not in _END:
            sentence += (
                p.choice(["。", "。", "。", "！", "～", "", "。", "…"])
                if not hype
                else p.choice(["！", "！！", "！", "～", "‼️"])
            )
        if p.chance(emoji_rate):
            sentence += p.choice(P.EMOJI_HYPE if hype else P.EMOJI_CALM)
            if hype and p.chance(0.35):
                sentence += p.choice(P.EMOJI_HYPE)
        return sentence

    def join(self, sentences: list[str], newline_rate: float) -> str:
        out = []
        for s in sentences:
            if not s:
                continue
            if out:
                out.append("\n" if self.p.chance(newline_rate) else "")
            out.append(s)
        return "".join(out)

    def synonyms(self, text: str, rate: float) -> str:
        p = self.p
        for word, subs in P.SYNONYMS:
            if word in text and p.chance(rate):
                text = text.replace(word, p.choice(subs), 1)
        return text

    def brand_mention(self, brand_idx: int, latin_rate: float = 0.3) -> str:
        """How a post names the brand: its Chinese name, or a Latin alias / nickname."""
        b = BRANDS[brand_idx]
        if self.p.chance(latin_rate) and b.aliases:
            return self.p.choice(b.aliases)
        return b.name

    def other_brand(self, category: str, brand_idx: int | None) -> str:
        pool = [i for i in BY_CATEGORY[category] if i != brand_idx]
        if not pool:
            return "别家"
        return self.brand_mention(self.p.choice(pool), 0.25)

    def slots(
        self,
        category: str,
        brand_idx: int | None,
        product: str | None = None,
        mention: str | None = None,
    ) -> Slots:
        p = self.p
        if brand_idx is None:
            brand = ""
            product = product or p.choice(GENERIC_PRODUCTS[category])
        else:
            brand = mention if mention is not None else self.brand_mention(brand_idx)
            product = product or p.choice(BRANDS[brand_idx].products)
        return Slots(self, category, brand, product, self.other_brand(category, brand_idx))

    def _hashtags(
        self,
        category: str,
        k: int,
        brand_idx: int | None,
        brand_tag_rate: float,
        extra: list[str] | None = None,
    ) -> list[str]:
        tags = self.p.sample(P.CAT[category]["tag"], k)
        if extra:
            tags += extra
        if brand_idx is not None and self.p.chance(brand_tag_rate):
            b = BRANDS[brand_idx]
            tags.insert(
                self.p.randint(0, len(tags)),
                self.p.choice([b.name, b.name + self.p.choice(b.products)]),
            )
        return tags

    def keywords_sentence(self, keywords: list[str], form: int | None = None) -> str:
        p = self.p
        if len(keywords) >= 2 and (form is not None or p.chance(0.5)):
            forms = P.KEYWORD_LIST_FORMS
            f = forms[form % len(forms)] if form is not None else p.choice(forms)
            return f.format(kws=p.choice(["、", "和", "、"]).join(keywords))
        return p.choice(P.KEYWORD_FORMS).format(kw=p.choice(keywords))

    # ------------------------------------------------------------------ genuine

    def _intro(self, category: str, brand_idx: int | None) -> str:
        p = self.p
        if category in P.INTRO_CAT and p.chance(0.6):
            return p.choice(P.INTRO_CAT[category])
        if category not in P.INTRO_CAT and brand_idx is not None and p.chance(0.4):
            return p.choice(P.INTRO_USE)
        return p.choice(P.INTRO_COMMON)

    def genuine(
        self,
        category: str,
        brand_idx: int | None,
        polarity: str,
        *,
        product: str | None = None,
        launch: bool = False,
        hype_rate: float = 0.12,
        enthusiasm: float = 0.3,
        tags: bool = True,
        mention: str | None = None,
    ) -> tuple[str, str]:
        """A consumer's own post: personal detail, mixed opinions, real downsides."""
        p = self.p
        s = self.slots(category, brand_idx, product, mention)
        s["_polarity"] = polarity
        cat = P.CAT[category]
        emoji = p.choice([0.05, 0.15, 0.3, 0.5])
        # an enthusiastic user writes much like a seeding post: hype, CTA, selling points
        keen = polarity == "pos" and p.chance(enthusiasm)
        loud = keen or p.chance(0.12)
        sent: list[str] = []

        if launch:
            title = self.fill(p.choice(P.LAUNCH_TITLE), s)
            sent.append(self.end(self.fill(p.choice(P.LAUNCH_INTRO), s), emoji, loud))
        elif keen and brand_idx is not None and p.chance(0.45):
            title = self.fill(p.choice(P.CAMPAIGN_TITLES + P.FAKE_TITLE), s)
        elif brand_idx is None:
            title = self.fill(p.choice(P.TITLE_NOBRAND + P.TITLE[polarity][:4]), s)
        else:
            title = self.fill(p.choice(P.TITLE[polarity]), s)
        if p.chance(0.35 if loud else 0.12):
            title += p.choice(P.EMOJI_HYPE if loud else P.EMOJI_CALM + P.EMOJI_HYPE)

        if p.chance(0.7):
            r = p.u()
            if r < 0.1:
                intro = self.fill(p.choice(P.GENUINE_PAIN), s)
            elif r < 0.18:
                intro = p.choice(P.GENUINE_DISCOVERY)
            else:
                intro = self.fill(self._intro(category, brand_idx), s)
            if intro.endswith("，"):
                intro += self.fill(p.choice(cat["usage"]), s)
            sent.append(self.end(intro, emoji, loud))
        if brand_idx is not None and p.chance(0.5):
            sent.append(self.end(self.fill(p.choice(P.PURCHASE), s), emoji))
        if p.chance(0.8):
            u = self.fill(p.choice(cat["usage"]), s)
            if p.chance(0.5):
                u += p.choice(
                    ["，用了{n}了", "，坚持了{n}", "，前后{n}左右", "，到现在{n}"]
                ).format_map(s)
            sent.append(self.end(u, emoji))

        n_pro, n_con = {
            "pos": (p.randint(1, 3), 1 if p.chance(0.45) else 0),
            "mixed": (p.randint(1, 2), p.randint(1, 2)),
            "neg": (p.randint(0, 1), p.randint(2, 3)),
        }[polarity]
        pros = [self.fill(x, s) for x in p.sample(cat["pro"], n_pro)]
        if pros and p.chance({"pos": 0.4, "mixed": 0.25, "neg": 0.05}[polarity] + 0.3 * keen):
            pts = P.POINTS[category]
            pros[-1] = self.fill(p.choice(pts[p.choice(sorted(pts))]), s)
        cons = [self.fill(x, s) for x in p.sample(cat["con"], n_con)]
        if p.chance(0.22) and (pros or cons):
            lines = []
            if pros:
                b = p.choice(P.BULLETS[:4])
                lines.append(
                    p.choice(["优点：", "好的地方：", "👍 "])
                    + "\n"
                    + "\n".join(b + x for x in pros)
                )
            if cons:
                lines.append(
                    p.choice(["缺点：", "不足：", "👎 ", "踩雷点："])
                    + "\n"
                    + "\n".join(p.choice(["❌", "▪️", "-"]) + x for x in cons)
                )
            sent.append("\n".join(lines))
        else:
            for x in pros:
                sent.append(self.end(p.choice(P.CONNECT_PRO) + x, emoji, loud))
            for i, x in enumerate(cons):
                conn = p.choice(P.CONNECT_CON) if i == 0 else p.choice(["还有", "而且", "另外", ""])
                sent.append(self.end(conn + x, emoji))
        if brand_idx is not None and p.chance(0.3):
            sent.append(self.end(self.fill(p.choice(P.COMPARE), s), emoji))
        if p.chance(0.15):
            sent.append(self.end(self.fill(p.choice(P.ASPECT_LIST), s), emoji))
        if p.chance({"pos": 0.3, "mixed": 0.15, "neg": 0.03}[polarity] + 0.2 * keen):
            kws = p.sample(P.CAMPAIGN_KEYWORDS, p.randint(1, 3))
            sent.append(self.end(self.keywords_sentence(kws), emoji, loud))
        if polarity != "neg" and p.chance(hype_rate):
            h = p.choice(P.MILD_HYPE)
            sent.append(
                self.end(
                    p.choice(
                        [
                            f"{s['aspect']}这块真的{h}",
                            f"说实话有点{h}",
                            f"{h}，没想到",
                            f"这个价格{h}",
                        ]
                    ),
                    emoji,
                )
            )
        if keen:
            if p.chance(0.5):
                sent.append(self.end(self.fill(p.choice(P.GENUINE_HYPERBOLE), s), emoji, True))
            if p.chance(0.35):
                sent.append(self.end(self.fill(p.choice(P.FAKE_HYPE), s), emoji, True))
            if p.chance(0.4):
                sent.append(self.end(p.choice(P.GENUINE_CTA + P.CTA[:2]), emoji, True))
        if polarity == "neg" and p.chance(0.5):
            sent.append(
                self.end(p.choice(["不推荐", "踩雷", "一般般", "有点后悔", "不值这个价"]), 0)
            )
        if p.chance(0.8):
            sent.append(self.end(self.fill(p.choice(P.VERDICT[polarity]), s), emoji))
        if p.chance(0.18):
            sent.append(self.fill(p.choice(P.QUESTIONS), s))
        if p.chance(0.08):
            sent.append(f"@{self.nickname()} " + p.choice(["你上次问的", "一起去", "看这个", ""]))
        body = self.synonyms(
            self.join(sent, p.choice([0.1, 0.35, 0.7])), p.choice([0.0, 0.15, 0.3, 0.45])
        )
        if not tags:
            return title, body
        ntags = p.weighted([0, 1, 2, 3, 4, 5], _GENUINE_TAGS_CUM)
        promo_tags = (
            p.sample(P.PROMO_TAGS + P.INTERMEDIARY_TAGS, p.randint(1, 2))
            if p.chance(0.25 + 0.3 * loud)
            else None
        )
        if p.chance(0.12 + 0.2 * loud):  # keyword tags such as #学生党好物#
            promo_tags = (promo_tags or []) + [
                p.choice(P.CAMPAIGN_KEYWORDS) + p.choice(["好物", "必备", "推荐"])
            ]
        tag_list = self._hashtags(category, ntags, brand_idx, 0.25, promo_tags)
        if tag_list:
            body += ("\n" if p.chance(0.7) else " ") + self.tags_line(tag_list)
        return title, body

    # ------------------------------------------------------------------ fakes

    def _experience(self, category: str) -> list[str]:
        return P.FAKE_EXPERIENCE_VISIT if category in ("food", "travel") else P.FAKE_EXPERIENCE

    def fake(self, category: str, brand_idx: int, *, contact_rate: float = 0.12) -> tuple[str, str]:
        """A fabricated endorsement from a fake consumer account."""
        p = self.p
        if p.chance(0.35):  # soft seeding: a persona post in the genuine style
            title, body = self.genuine(category, brand_idx, "pos", hype_rate=0.4, enthusiasm=0.6)
            if p.chance(contact_rate):
                body = body + "\n" + self.fill(p.choice(P.CONTACT), self.slots(category, brand_idx))
            return title, body
        s = self.slots(category, brand_idx)
        cat = P.CAT[category]
        emoji = p.choice([0.3, 0.5, 0.7])
        title = self.fill(p.choice(P.FAKE_TITLE + P.TITLE["pos"][:5]), s)
        if p.chance(0.5):
            title += p.choice(P.EMOJI_HYPE)
        sent: list[str] = []
        if p.chance(0.7):
            sent.append(self.end(self.fill(p.choice(P.FAKE_PAIN), s), emoji, True))
        if p.chance(0.5):
            sent.append(self.end(self.fill(p.choice(P.FAKE_DISCOVERY), s), emoji, True))
        if p.chance(0.3):  # a usage detail, the way genuine posts have them
            sent.append(self.end(self.fill(p.choice(cat["usage"]), s), emoji))
        if p.chance(0.25):
            sent.append(self.end(self.fill(p.choice(P.PURCHASE), s), emoji))
        if p.chance(0.4):
            sent.append(self.end(self.fill(p.choice(cat["pro"]), s), emoji))
        for _ in range(p.randint(1, 3)):
            sent.append(self.end(self.fill(p.choice(self._experience(category)), s), emoji, True))
        if p.chance(0.45):
            pts = P.POINTS[category]
            sent.append(self.end(self.fill(p.choice(pts[p.choice(sorted(pts))]), s), emoji, True))
        if p.chance(0.55):
            sent.append(self.end(self.fill(p.choice(P.FAKE_ABSOLUTE), s), emoji, True))
        if p.chance(0.75):
            sent.append(self.end(self.fill(p.choice(P.FAKE_HYPE), s), emoji, True))
        if p.chance(0.08):
            sent.append(self.end(p.choice(P.FAKE_CON), emoji, True))
        elif p.chance(0.1):
            sent.append(
                self.end(p.choice(P.CONNECT_CON) + self.fill(p.choice(cat["con"]), s), emoji)
            )
        if p.chance(0.3):
            sent.append(self.end(self.fill(p.choice(P.VERDICT["pos"]), s), emoji))
        if p.chance(0.15):
            sent.append(self.end(p.choice(P.ANTI_DISCLOSURE), emoji))
        if p.chance(0.3):
            sent.append(self.end(p.choice(P.URGENCY), emoji, True))
        if p.chance(0.65):
            sent.append(self.end(self.evade(p.choice(P.CTA), 0.1), emoji, True))
        if p.chance(contact_rate):
            sent.append(self.fill(p.choice(P.CONTACT), s))
        tags = self._hashtags(
            category, p.randint(1, 4), brand_idx, 0.7, p.sample(P.PROMO_TAGS, p.randint(0, 2))
        )
        body = self.synonyms(self.join(sent, p.choice([0.3, 0.6, 0.9])), p.choice([0.0, 0.15, 0.3]))
        if p.chance(0.9):
            body += "\n" + self.tags_line(tags)
        return title, body

    # ------------------------------------------------------------------ campaigns

    def brief(self, category: str, brand_idx: int, intermediary_tags: list[str]) -> Brief:
        """A campaign brief: selling points, keywords and hashtags every post must carry."""
        p = self.p
        b = BRANDS[brand_idx]
        points_pool = P.POINTS[category]
        keys = p.sample(sorted(points_pool), p.randint(3, min(5, len(points_pool))))
        points = [(k, p.randint(0, len(points_pool[k]) - 1)) for k in keys]
        keywords = p.sample(P.CAMPAIGN_KEYWORDS, p.randint(2, 3))
        product = p.choice(b.products)
        hashtags = (
            list(intermediary_tags[:2]) + [b.name + product] + p.sample(P.CAT[category]["tag"], 2)
        )
        if p.chance(0.5):
            hashtags.append(keywords[0] + p.choice(["好物", "必备", "推荐"]))
        return Brief(
            category=category,
            brand_idx=brand_idx,
            product=product,
            points=points,
            keywords=keywords,
            hashtags=hashtags,
            title=p.choice(P.CAMPAIGN_TITLES),
            opener=p.choice(P.CAMPAIGN_OPENERS),
            persona=p.choice(P.CAT[category]["persona"]),
            cta=p.choice(P.CTA),
            mention=self.brand_mention(brand_idx, 0.2),
        )

    def campaign(self, brief: Brief, heavy: bool) -> tuple[str, str]:
        """One post of a campaign: a paraphrase of the brief, light or heavy."""
        p = self.p
        cat = P.CAT[brief.category]
        mention = brief.mention if p.chance(0.8) else self.brand_mention(brief.brand_idx, 0.3)
        s = self.slots(brief.category, brief.brand_idx, brief.product, mention)
        s["persona"] = (
            self.fill(brief.persona, s)
            if not heavy or p.chance(0.5)
            else self.fill(p.choice(cat["persona"]), s)
        )
        s["keyword"] = brief.keywords[0]
        pts = P.POINTS[brief.category]
        emoji = p.choice([0.2, 0.45, 0.7])
        sent: list[str] = []
        if not heavy:
            # light: the brief pasted with small edits (the brief fixes the tone too)
            emoji = brief.extras.setdefault("emoji", p.choice([0.1, 0.25, 0.4]))
            title = self.fill(brief.title, s)
            if p.chance(0.85):
                sent.append(self.end(self.fill(brief.opener, s), emoji, True))
            else:
                sent.append(
                    self.end(self.fill(self._intro(brief.category, brief.brand_idx), s), emoji)
                )
            if p.chance(0.3):
                sent.append(self.end(self.fill(p.choice(cat["usage"]), s), emoji))
            for i, (k, v) in enumerate(brief.points):
                conn = "" if i == 0 or p.chance(0.7) else p.choice(["而且", "还有", "关键是"])
                sent.append(self.end(conn + self.fill(pts[k][v], s), emoji, True))
            form = brief.extras.setdefault("kw_form", p.randint(0, len(P.KEYWORD_LIST_FORMS) - 1))
            if p.chance(0.7):
                sent.append(self.end(self.keywords_sentence(brief.keywords, form), emoji, True))
            else:
                for kw in p.sample(brief.keywords, p.randint(1, len(brief.keywords))):
                    sent.append(self.end(self.keywords_sentence([kw]), emoji, True))
            if p.chance(0.6):
                sent.append(self.end(brief.cta, emoji, True))
            if p.chance(0.25):
                sent.append(self.end(p.choice(P.ANTI_DISCLOSURE), emoji))
            if p.chance(0.25) and len(sent) > 3:
                i = p.randint(1, len(sent) - 3)
                sent[i], sent[i + 1] = sent[i + 1], sent[i]
            tags = list(brief.hashtags)
            if p.chance(0.3):
                tags.pop(p.randint(0, len(tags) - 1))
            body = self.synonyms(self.join(sent, 0.6), 0.15)
            title = self.synonyms(title, 0.2)
        else:
            # heavy: the agency writes in a personal voice and slips the brief in
            pol = "pos" if p.chance(0.75) else "mixed"
            title, body = self.genuine(
                brief.category,
                brief.brand_idx,
                pol,
                product=brief.product,
                enthusiasm=0.35,
                tags=False,
                mention=mention,
            )
            if p.chance(0.35):
                title = self.fill(p.choice(P.CAMPAIGN_TITLES), s)
            inject = []
            for k, v in p.sample(brief.points, p.randint(1, min(3, len(brief.points)))):
                forms = pts[k]
                alt = [i for i in range(len(forms)) if i != v] or [v]
                inject.append(self.end(self.fill(forms[p.choice(alt)], s), emoji, p.chance(0.4)))
            if p.chance(0.7):
                inject.append(
                    self.end(
                        self.keywords_sentence(p.sample(brief.keywords, p.randint(1, 2))), emoji
                    )
                )
            if p.chance(0.2):
                inject.append(
                    self.end(brief.cta if p.chance(0.5) else p.choice(P.CTA), emoji, True)
                )
            lines = body.split("\n")
            for x in inject:  # woven into the existing lines, not appended as a block
                i = p.randint(0, len(lines) - 1)
                lines[i] = lines[i] + x if p.chance(0.7) else x + lines[i]
            body = self.synonyms("\n".join(lines), 0.3)
            tags = p.sample(brief.hashtags, p.randint(1, 3)) + p.sample(cat["tag"], p.randint(0, 2))
        body += ("\n" if p.chance(0.8) else " ") + self.tags_line(tags)
        return title, body

    # ------------------------------------------------------------------ hard genuine cases

    def disclosed(self, category: str, brand_idx: int, official: bool) -> tuple[str, str]:
        """A declared partnership (or a brand's own post): promotional, like seeding."""
        p = self.p
        s = self.slots(category, brand_idx)
        pts = P.POINTS[category]
        emoji = p.choice([0.3, 0.5, 0.7])
        sent: list[str] = []
        if official:
            b = BRANDS[brand_idx]
            s["brand"] = b.name
            title = self.fill(p.choice(P.BRAND_OFFICIAL_TITLE), s)
            for k in p.sample(sorted(pts), p.randint(2, 4)):
                sent.append(self.end(p.choice(P.BULLETS) + self.fill(p.choice(pts[k]), s), 0.2))
            if p.chance(0.5):
                sent.append(self.end(p.choice(P.URGENCY), emoji, True))
            if p.chance(0.4):
                sent.append(
                    self.end(self.fill("评论区聊聊你最想要的{noun}，抽{k}位宝子送正装", s), emoji)
                )
            tags = [b.name] + p.sample(P.CAT[category]["tag"], p.randint(1, 3))
        else:
            title = self.fill(p.choice(P.CAMPAIGN_TITLES + P.FAKE_TITLE[:6]), s)
            if p.chance(0.5):
                sent.append(self.end(self.fill(p.choice(P.DISCLOSURE), s), emoji))
            if p.chance(0.5):
                sent.append(self.end(self.fill(p.choice(P.FAKE_PAIN), s), emoji, True))
            if p.chance(0.5):
                sent.append(self.end(self.fill(p.choice(P.CAT[category]["usage"]), s), emoji))
            for k in p.sample(sorted(pts), p.randint(2, 4)):
                sent.append(self.end(self.fill(p.choice(pts[k]), s), emoji, True))
            if p.chance(0.5):
                sent.append(
                    self.end(self.fill(p.choice(self._experience(category)), s), emoji, True)
                )
            if p.chance(0.45):
                sent.append(self.end(self.fill(p.choice(P.FAKE_HYPE), s), emoji, True))
            if p.chance(0.25):
                sent.append(
                    self.end(
                        p.choice(P.CONNECT_CON) + self.fill(p.choice(P.CAT[category]["con"]), s),
                        emoji,
                    )
                )
            if p.chance(0.35):
                sent.append(self.end(p.choice(P.CTA[:8]), emoji, True))
            tags = self._hashtags(
                category, p.randint(1, 4), brand_idx, 0.8, ["品牌合作"] if p.chance(0.3) else None
            )
        body = self.join(sent, p.choice([0.4, 0.7, 0.9])) + "\n" + self.tags_line(tags)
        return title, body

    def promo(self, category: str, brand_idx: int) -> tuple[str, str]:
        """Ordinary-looking promotional text (the content of bought-exposure posts)."""
        p = self.p
        r = p.u()
        if r < 0.45:
            return self.genuine(category, brand_idx, "pos", hype_rate=0.3)
        s = self.slots(category, brand_idx)
        pts = P.POINTS[category]
        emoji = p.choice([0.2, 0.4, 0.6])
        title = self.fill(p.choice(P.CAMPAIGN_TITLES + P.TITLE["pos"]), s)
        sent = []
        if p.chance(0.6):
            sent.append(self.end(self.fill(self._intro(category, brand_idx), s), emoji))
        for k in p.sample(sorted(pts), p.randint(1, 3)):
            sent.append(self.end(self.fill(p.choice(pts[k]), s), emoji, p.chance(0.5)))
        if p.chance(0.5):
            sent.append(self.end(self.fill(p.choice(P.CAT[category]["pro"]), s), emoji))
        if p.chance(0.3):
            sent.append(self.end(self.fill(p.choice(P.FAKE_HYPE), s), emoji, True))
        if p.chance(0.4):
            sent.append(self.end(self.fill(p.choice(P.VERDICT["pos"]), s), emoji))
        tags = self._hashtags(
            category, p.randint(1, 4), brand_idx, 0.5, p.sample(P.PROMO_TAGS, p.randint(0, 1))
        )
        return title, self.join(sent, 0.5) + "\n" + self.tags_line(tags)

    def cover(self) -> tuple[str, str]:
        """A fake account's lifestyle cover post (伪素人 trust building); no brand."""
        p = self.p
        title = p.choice(P.LIFESTYLE_TITLE)
        if p.chance(0.5):
            title += p.choice(P.EMOJI_HYPE + P.EMOJI_CALM)
        sent = [self.end(x, 0.5) for x in p.sample(P.LIFESTYLE_BODY, p.randint(1, 3))]
        body = self.join(sent, 0.5)
        if p.chance(0.8):
            body += "\n" + self.tags_line(p.sample(P.LIFESTYLE_TAGS, p.randint(1, 3)))
        return title, body

    # ------------------------------------------------------------------ accounts

    def bio(self, kind: str, category: str, brand_idx: int | None = None) -> str:
        p = self.p
        s = self.slots(category, brand_idx)
        if kind == "brand" and brand_idx is not None:
            s["brand"] = BRANDS[brand_idx].name
            return self.fill(p.choice(P.BIO_BRAND), s)
        if kind == "fake":
            if p.chance(0.25):
                return ""
            if p.chance(0.3):
                return self.fill(p.choice(P.BIO_GENUINE), s)
            return self.fill(p.choice(P.BIO_FAKE), s)
        if kind == "creator":
            return self.fill(p.choice(P.BIO_CREATOR + P.BIO_GENUINE[:3]), s)
        if p.chance(0.35):
            return ""
        bio = self.fill(p.choice(P.BIO_GENUINE), s)
        if p.chance(0.04):
            bio += " 合作请私信"
        return bio


_GENUINE_TAGS_CUM = _cum([0.18, 0.15, 0.22, 0.2, 0.15, 0.1])
