# ruff: noqa: E501  (phrase data: CJK characters count double towards the line width)
"""The brands of the synthetic platform.

All brands are fictional (invented Chinese names and Latin aliases), so the
synthetic fraud never points at a real company. Each brand has a category, a
few products and a popularity weight (how often genuine posts mention it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Brand:
    brand_id: str
    name: str
    aliases: tuple[str, ...]
    category: str
    products: tuple[str, ...]
    popularity: float


def _b(bid, name, aliases, cat, products, pop=1.0) -> Brand:
    return Brand(bid, name, tuple(aliases), cat, tuple(products), pop)


BRANDS: tuple[Brand, ...] = (
    # skincare
    _b("lanskin", "澜肌", ["LanSkin", "LS", "澜肌LanSkin"], "skincare",
       ["小蓝瓶精华", "水光面霜", "氨基酸洁面"], 3.0),
    _b("veroa", "薇若", ["Veroa", "VR薇若"], "skincare", ["舒缓修护霜", "清透防晒乳"], 2.0),
    _b("mosaline", "沐莎琳", ["Mosaline", "沐莎"], "skincare", ["玻色因精华", "紧致眼霜"], 1.6),
    _b("purecode", "纯码", ["PureCode", "PC纯码"], "skincare", ["烟酰胺精华水", "控油清痘乳"], 1.4),
    _b("heyue", "禾悦", ["Heyue", "HY"], "skincare", ["积雪草面膜", "修护精华油"], 1.1),
    _b("auralis", "奥兰诗", ["Auralis", "奥兰"], "skincare", ["黄金精华", "抗老面霜"], 0.9),
    _b("dermyu", "德美优", ["DermYu", "DMY"], "skincare", ["神经酰胺身体乳", "次抛精华"], 0.7),
    # makeup
    _b("rouvelle", "柔薇", ["Rouvelle", "RV"], "makeup", ["丝绒唇釉", "持妆粉底液"], 2.4),
    _b("kikora", "绮可", ["Kikora", "KKR"], "makeup", ["九宫格眼影", "水光气垫"], 1.6),
    _b("lumina", "流明", ["Lumina", "LMN"], "makeup", ["钻石高光", "妆前乳"], 1.0),
    _b("colorfox", "彩狐", ["ColorFox", "CF彩狐"], "makeup", ["极细眉笔", "纤长睫毛膏"], 1.3),
    _b("meiyan", "魅颜", ["Meiyan", "MY魅颜"], "makeup", ["控油散粉", "遮瑕液"], 0.9),
    _b("sakuya", "樱夜", ["Sakuya"], "makeup", ["奶油腮红", "雾面唇泥"], 0.8),
    # food
    _b("laoma", "老妈串串", ["Laoma Chuanchuan", "老妈家"], "food", ["牛油锅底", "招牌串串"], 1.8),
    _b("chagu", "茶谷", ["Chagu", "ChaGu Tea"], "food", ["芝士葡萄", "杨枝甘露"], 2.2),
    _b("yuanmai", "原麦坊", ["Yuanmai Bakery", "原麦"], "food", ["全麦贝果", "碱水包"], 1.2),
    _b("xianglu", "湘炉小馆", ["Xianglu Bistro", "湘炉"], "food", ["小炒黄牛肉", "剁椒鱼头"], 1.0),
    _b("nutshome", "果仁家", ["NutsHome", "果仁家NutsHome"], "food", ["每日坚果", "冻干酸奶块"], 1.1),
    _b("beanly", "豆里", ["Beanly", "豆里咖啡"], "food", ["挂耳咖啡", "冷萃咖啡液"], 1.3),
    # travel
    _b("yunqi", "云栖酒店", ["Yunqi Hotels", "云栖"], "travel", ["湖景房", "行政酒廊"], 1.2),
    _b("haibin", "海滨假日", ["Haibin Resort", "海滨"], "travel", ["亲子房", "海景套房"], 1.0),
    _b("tripcat", "行猫旅行", ["TripCat", "行猫"], "travel", ["跟团游", "自由行套餐"], 1.3),
    _b("skyfly", "翔鹭航空", ["SkyFly Air", "翔鹭"], "travel", ["经济舱", "公务舱"], 0.8),
    # fitness
    _b("fitcore", "燃核", ["FitCore", "FC燃核"], "fitness", ["乳清蛋白粉", "加厚瑜伽垫"], 1.3),
    _b("runwind", "奔风", ["RunWind", "RW奔风"], "fitness", ["碳板跑鞋", "运动手表"], 1.4),
    _b("keepfit", "轻练", ["KeepFit Studio", "轻练工作室"], "fitness", ["私教课", "普拉提团课"], 1.0),
    _b("shapeon", "塑型派", ["ShapeOn"], "fitness", ["代餐奶昔", "筋膜枪"], 0.9),
    # electronics
    _b("voxa", "沃克斯", ["Voxa", "VOXA"], "electronics", ["降噪耳机", "蓝牙音箱"], 1.8),
    _b("nimbus", "云朵科技", ["Nimbus Tech", "云朵"], "electronics", ["学习平板", "电子阅读器"], 1.2),
    _b("pixelo", "像素派", ["Pixelo"], "electronics", ["影像手机", "拍立得相机"], 1.5),
    _b("kinetic", "动能", ["Kinetic", "KNT"], "electronics", ["磁吸充电宝", "氮化镓充电器"], 1.1),
    _b("lumo", "明眸", ["Lumo", "明眸Lumo"], "electronics", ["护眼台灯", "家用投影仪"], 1.0),
    _b("zentro", "智创", ["Zentro", "ZT智创"], "electronics", ["扫拖机器人", "智能手表"], 1.2),
    # fashion
    _b("linenroom", "麻间", ["Linen Room", "麻间LinenRoom"], "fashion", ["亚麻衬衫", "阔腿裤"], 1.2),
    _b("urbanfox", "都市狐", ["UrbanFox", "UF"], "fashion", ["三合一冲锋衣", "加绒卫衣"], 1.4),
    _b("softstep", "柔步", ["SoftStep"], "fashion", ["软底乐福鞋", "小白鞋"], 1.1),
    _b("mianmian", "棉棉", ["Mianmian Basics", "棉棉家"], "fashion", ["基础T恤", "德绒打底衫"], 1.0),
    _b("velora", "维洛拉", ["Velora"], "fashion", ["通勤托特包", "腋下包"], 0.9),
    # home
    _b("nestly", "栖家", ["Nestly"], "home", ["天丝四件套", "乳胶枕"], 1.1),
    _b("cleanpro", "洁仕", ["CleanPro", "CP洁仕"], "home", ["无线洗地机", "除螨仪"], 1.3),
    _b("aromi", "香氛集", ["Aromi", "香氛集Aromi"], "home", ["香薰蜡烛", "无火香薰"], 0.9),
    _b("kitchee", "厨小秘", ["Kitchee"], "home", ["可视空气炸锅", "静音破壁机"], 1.2),
    _b("storely", "收纳控", ["Storely"], "home", ["抽屉收纳盒", "无痕衣架"], 0.7),
    # baby
    _b("bebecare", "贝贝护", ["BebeCare", "BBC贝贝护"], "baby", ["拉拉裤", "护臀膏"], 1.2),
    _b("milkland", "奶乡", ["Milkland"], "baby", ["婴儿奶粉", "高铁米粉"], 1.0),
    _b("tinystep", "小步", ["TinyStep"], "baby", ["学步鞋", "轻便推车"], 0.8),
    _b("softbud", "柔芽", ["Softbud", "柔芽Softbud"], "baby", ["手口湿巾", "婴儿洗护套装"], 0.9),
    # pets
    _b("purrfect", "喵趣", ["Purrfect", "喵趣Purrfect"], "pets", ["冻干猫粮", "豆腐猫砂"], 1.3),
    _b("woofy", "汪汪乐", ["Woofy"], "pets", ["鲜肉狗粮", "磨牙棒"], 1.0),
    _b("petguard", "宠安", ["PetGuard", "宠安PetGuard"], "pets", ["体内驱虫药", "宠物益生菌"], 0.8),
    _b("furball", "毛球", ["Furball"], "pets", ["自动喂食器", "瓦楞猫抓板"], 0.8),
)

CATEGORIES: tuple[str, ...] = (
    "skincare", "makeup", "food", "travel", "fitness",
    "electronics", "fashion", "home", "baby", "pets",
)

#: how often each category is posted about (genuine interest distribution)
CATEGORY_WEIGHTS: dict[str, float] = {
    "skincare": 1.6, "makeup": 1.3, "food": 1.7, "travel": 1.0, "fitness": 0.8,
    "electronics": 0.9, "fashion": 1.2, "home": 0.9, "baby": 0.6, "pets": 0.7,
}

#: share of genuine posts in each category that mention a brand at all
BRAND_MENTION_RATE: dict[str, float] = {
    "skincare": 0.70, "makeup": 0.72, "food": 0.45, "travel": 0.40, "fitness": 0.50,
    "electronics": 0.65, "fashion": 0.45, "home": 0.50, "baby": 0.60, "pets": 0.60,
}

BY_CATEGORY: dict[str, tuple[int, ...]] = {
    c: tuple(i for i, b in enumerate(BRANDS) if b.category == c) for c in CATEGORIES
}
