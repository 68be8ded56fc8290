"""Chinese names and unified social credit codes for simulated parks and enterprises."""
from __future__ import annotations

import numpy as np

__all__ = ["INDUSTRIES", "park_name", "enterprise_name", "credit_code"]

#: industries with their share in a typical mixed chemical/manufacturing park
INDUSTRIES: dict[str, float] = {
    "化工": 0.20, "涂装": 0.16, "电子": 0.14, "纺织": 0.10, "印刷": 0.10, "金属/电镀": 0.12, "制药": 0.10,
    "热电": 0.04, "钢铁": 0.04,
}
_PLACE = ["苏州", "吴江", "吴中", "相城", "姑苏", "太湖", "东吴", "金阊"]
_WORD = ["华鑫", "恒达", "宏远", "金盛", "永泰", "瑞丰", "新宇", "中科", "天成", "博源", "鼎晟", "润泽", "海诚", "凯信",
         "兴隆", "嘉禾", "联创", "信达", "东方", "国泰", "协鑫", "亿丰", "明阳", "汇通", "长江", "盛虹", "光大", "福瑞",
         "森茂", "华腾", "弘毅", "宝利", "百川", "安泰", "德润", "力拓", "卓越", "晨光", "万邦", "同舟"]
_SUFFIX = {
    "化工": ["化工有限公司", "精细化工有限公司", "新材料有限公司"], "涂装": ["涂装科技有限公司", "表面处理有限公司", "家具制造有限公司"],
    "电子": ["电子科技有限公司", "微电子有限公司", "光电有限公司"], "纺织": ["纺织有限公司", "印染有限公司", "丝绸有限公司"],
    "印刷": ["印刷包装有限公司", "彩印有限公司"], "金属/电镀": ["电镀有限公司", "金属制品有限公司", "五金有限公司"],
    "制药": ["制药有限公司", "生物医药有限公司"], "热电": ["热电有限公司", "能源有限公司"], "钢铁": ["钢铁有限公司", "特钢有限公司"],
}
_PARKS = ["姑苏新材料产业园", "太湖精细化工园区", "吴江滨湖工业园", "相城高新技术产业园", "东吴表面处理产业园"]
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def park_name(rng: np.random.Generator) -> str:
    """A plausible Chinese park name."""
    return str(rng.choice(_PARKS))


def enterprise_name(rng: np.random.Generator, industry: str, used: set[str]) -> str:
    """A unique plausible enterprise name for ``industry``."""
    while True:
        name = f"{rng.choice(_PLACE)}{rng.choice(_WORD)}{rng.choice(_SUFFIX[industry])}"
        if name not in used:
            used.add(name)
            return name


def credit_code(rng: np.random.Generator, region: str = "320500") -> str:
    """An 18-character unified social credit code with a valid GB 32100-2015 check character.

    ``91`` (enterprise, company) + the 6-digit region code (320500 = Suzhou) + a 9-character organisation code
    + the check character.
    """
    org = "".join(rng.choice(list("0123456789"), 8)) + str(rng.choice(list("0123456789X")))
    body = "91" + region + org.replace("X", "0")
    total = sum(_ALPHABET.index(c) * w for c, w in zip(body, _WEIGHTS))
    return body + _ALPHABET[(31 - total % 31) % 31]
