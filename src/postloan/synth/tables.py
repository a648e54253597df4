"""Fixed reference lists the generator draws from (names, places, industries, products).

Everything here is public knowledge — common surnames, administrative-division codes of
well-known districts, GB/T 4754 industry sections — chosen so the data looks real to a
reviewer without describing any real person.
"""

from __future__ import annotations

from dataclasses import dataclass

# (surname, relative frequency in per mille, roughly the national ranking)
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 71),
    ("李", 70),
    ("张", 67),
    ("刘", 54),
    ("陈", 45),
    ("杨", 31),
    ("黄", 22),
    ("赵", 20),
    ("吴", 20),
    ("周", 19),
    ("徐", 14),
    ("孙", 13),
    ("马", 12),
    ("朱", 12),
    ("胡", 11),
    ("郭", 11),
    ("何", 10),
    ("林", 10),
    ("高", 10),
    ("罗", 9),
    ("郑", 8),
    ("梁", 8),
    ("谢", 7),
    ("宋", 6),
    ("唐", 6),
    ("许", 6),
    ("韩", 6),
    ("冯", 5),
    ("邓", 5),
    ("曹", 5),
    ("彭", 5),
    ("曾", 5),
    ("肖", 5),
    ("田", 4),
    ("董", 4),
    ("袁", 4),
    ("潘", 4),
    ("于", 4),
    ("蒋", 4),
    ("蔡", 4),
    ("余", 4),
    ("杜", 4),
    ("叶", 4),
    ("程", 4),
    ("苏", 3),
    ("魏", 3),
    ("吕", 3),
    ("丁", 3),
    ("任", 3),
    ("沈", 3),
    ("姚", 3),
    ("卢", 3),
    ("姜", 3),
    ("崔", 3),
    ("钟", 3),
    ("谭", 3),
    ("陆", 3),
    ("汪", 3),
    ("范", 3),
    ("金", 3),
    ("石", 3),
    ("廖", 3),
    ("贾", 2),
    ("夏", 2),
    ("韦", 2),
    ("付", 2),
    ("方", 2),
    ("白", 2),
    ("邹", 2),
    ("孟", 2),
    ("熊", 2),
    ("秦", 2),
    ("邱", 2),
    ("江", 2),
    ("尹", 2),
    ("薛", 2),
    ("闫", 2),
    ("段", 2),
    ("雷", 2),
    ("侯", 2),
    ("龙", 2),
    ("史", 2),
    ("陶", 2),
    ("黎", 2),
    ("贺", 2),
    ("顾", 2),
    ("毛", 2),
    ("郝", 2),
    ("龚", 2),
    ("邵", 2),
    ("万", 2),
    ("钱", 2),
    ("严", 2),
    ("武", 2),
    ("戴", 2),
    ("莫", 2),
    ("孔", 2),
    ("汤", 2),
    ("欧阳", 0.5),
    ("上官", 0.1),
    ("司马", 0.1),
    ("诸葛", 0.1),
)

GIVEN_MALE = tuple(
    "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建国峰亮成志文博轩然睿泽晨天翔"
)
GIVEN_FEMALE = tuple(
    "芳娜敏静丽艳娟霞秀英玲婷雪慧莹琳颖倩洁燕梅兰晶萍红佳欣怡涵雨梦思诗琪悦可嘉妍紫月"
)

# (area code, province/city prefix, district, branch)
AREAS: tuple[tuple[str, str, str, str], ...] = (
    ("110101", "北京市", "东城区", "BR01"),
    ("110102", "北京市", "西城区", "BR01"),
    ("110105", "北京市", "朝阳区", "BR01"),
    ("110108", "北京市", "海淀区", "BR01"),
    ("120101", "天津市", "和平区", "BR01"),
    ("120104", "天津市", "南开区", "BR01"),
    ("130102", "河北省石家庄市", "长安区", "BR01"),
    ("310101", "上海市", "黄浦区", "BR02"),
    ("310104", "上海市", "徐汇区", "BR02"),
    ("310112", "上海市", "闵行区", "BR02"),
    ("310115", "上海市", "浦东新区", "BR02"),
    ("320102", "江苏省南京市", "玄武区", "BR03"),
    ("320106", "江苏省南京市", "鼓楼区", "BR03"),
    ("320505", "江苏省苏州市", "虎丘区", "BR03"),
    ("320508", "江苏省苏州市", "姑苏区", "BR03"),
    ("340104", "安徽省合肥市", "蜀山区", "BR03"),
    ("330102", "浙江省杭州市", "上城区", "BR04"),
    ("330106", "浙江省杭州市", "西湖区", "BR04"),
    ("330203", "浙江省宁波市", "海曙区", "BR04"),
    ("350102", "福建省福州市", "鼓楼区", "BR04"),
    ("350203", "福建省厦门市", "思明区", "BR04"),
    ("440103", "广东省广州市", "荔湾区", "BR05"),
    ("440106", "广东省广州市", "天河区", "BR05"),
    ("440304", "广东省深圳市", "福田区", "BR05"),
    ("440305", "广东省深圳市", "南山区", "BR05"),
    ("440306", "广东省深圳市", "宝安区", "BR05"),
    ("510104", "四川省成都市", "锦江区", "BR06"),
    ("510107", "四川省成都市", "武侯区", "BR06"),
    ("500103", "重庆市", "渝中区", "BR06"),
    ("500106", "重庆市", "沙坪坝区", "BR06"),
    ("530102", "云南省昆明市", "五华区", "BR06"),
    ("610113", "陕西省西安市", "雁塔区", "BR06"),
    ("420102", "湖北省武汉市", "江岸区", "BR07"),
    ("420106", "湖北省武汉市", "武昌区", "BR07"),
    ("430102", "湖南省长沙市", "芙蓉区", "BR07"),
    ("430104", "湖南省长沙市", "岳麓区", "BR07"),
    ("410105", "河南省郑州市", "金水区", "BR07"),
    ("370102", "山东省济南市", "历下区", "BR08"),
    ("370202", "山东省青岛市", "市南区", "BR08"),
    ("210102", "辽宁省沈阳市", "和平区", "BR08"),
    ("230102", "黑龙江省哈尔滨市", "道里区", "BR08"),
)
BRANCHES = ("BR01", "BR02", "BR03", "BR04", "BR05", "BR06", "BR07", "BR08")
OFFICERS_PER_BRANCH = 12

STREETS = tuple(
    [
        "人民路",
        "解放路",
        "中山路",
        "建设路",
        "和平路",
        "新华路",
        "文化路",
        "胜利路",
        "长江路",
        "黄河路",
        "朝阳路",
        "青年路",
        "光明路",
        "滨江路",
        "学府路",
        "科技路",
        "东风路",
        "幸福路",
        "友谊路",
        "花园路",
        "工业路",
        "迎宾路",
        "府前街",
        "南大街",
    ]
)

# GB/T 4754-2017 sections: (code, name, weight, median monthly income in yuan, occupations)
INDUSTRIES: tuple[tuple[str, str, float, int, tuple[str, ...]], ...] = (
    ("A", "农、林、牧、渔业", 8, 4_000, ("农户", "养殖户")),
    ("C", "制造业", 18, 7_000, ("工人", "工程师", "技术员")),
    ("E", "建筑业", 8, 7_500, ("施工员", "项目经理")),
    ("F", "批发和零售业", 16, 7_000, ("个体工商户", "销售")),
    ("G", "交通运输、仓储和邮政业", 7, 6_500, ("司机", "快递员")),
    ("H", "住宿和餐饮业", 7, 5_500, ("厨师", "店主")),
    ("I", "信息传输、软件和信息技术服务业", 9, 15_000, ("程序员", "产品经理")),
    ("J", "金融业", 5, 14_000, ("银行职员", "会计")),
    ("K", "房地产业", 4, 9_000, ("房产经纪人", "物业管理员")),
    ("M", "科学研究和技术服务业", 4, 12_000, ("研究员", "工程师")),
    ("P", "教育", 8, 9_000, ("教师",)),
    ("Q", "卫生和社会工作", 6, 10_000, ("医生", "护士")),
)

# Mobile number segments (first three digits) of the PRC carriers.
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "145",
    "147",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "171",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]

# Loans, per purpose: share, products (name, weight), terms (months, weight),
# principal (median yuan, sigma, min, max, rounding yuan), rate range in basis points,
# methods (equal_installment, equal_principal, interest_only), guarantees
# (unsecured, mortgage, pledge, guarantee), P(floating), borrower type.
PURPOSES = ("consumer", "business", "housing", "working_capital", "fixed_asset", "project", "other")
METHODS = ("equal_installment", "equal_principal", "interest_only")
GUARANTEES = ("unsecured", "mortgage", "pledge", "guarantee")
RATE_TYPES = ("fixed", "floating")
BORROWER_TYPES = ("individual", "small_business_owner")


@dataclass(frozen=True, slots=True)
class PurposeSpec:
    share: float
    products: tuple[tuple[str, float], ...]
    terms: tuple[tuple[int, float], ...]
    principal: tuple[float, float, float, float, int]  # median, sigma, min, max, rounding
    rate_bp: tuple[int, int]  # inclusive range of annual rates in basis points
    methods: tuple[float, float, float]  # weights in METHODS order
    guarantees: tuple[float, float, float, float]  # weights in GUARANTEES order
    floating: float  # P(rate_type = floating)
    borrower: int  # index into BORROWER_TYPES


PURPOSE_SPECS: dict[str, PurposeSpec] = {
    "consumer": PurposeSpec(
        0.55,
        (("cash_loan", 50), ("car_loan", 25), ("renovation_loan", 15), ("education_loan", 10)),
        ((1, 2), (12, 28), (24, 25), (36, 30), (48, 5), (60, 10)),
        (50_000, 0.8, 2_000, 500_000, 100),
        (600, 2400),
        (0.85, 0.10, 0.05),
        (0.85, 0.0, 0.05, 0.10),
        0.1,
        0,
    ),
    "business": PurposeSpec(
        0.15,
        (("micro_business_loan", 60), ("merchant_loan", 40)),
        ((12, 25), (24, 25), (36, 35), (60, 15)),
        (300_000, 0.9, 20_000, 5_000_000, 1_000),
        (400, 1000),
        (0.40, 0.30, 0.30),
        (0.15, 0.35, 0.10, 0.40),
        0.3,
        1,
    ),
    "housing": PurposeSpec(
        0.05,
        (("home_mortgage", 85), ("second_home_mortgage", 15)),
        ((120, 15), (180, 15), (240, 30), (300, 15), (360, 25)),
        (1_200_000, 0.5, 200_000, 8_000_000, 1_000),
        (310, 490),
        (0.70, 0.30, 0.0),
        (0.0, 1.0, 0.0, 0.0),
        0.9,
        0,
    ),
    "working_capital": PurposeSpec(
        0.10,
        (("working_capital_loan", 100),),
        ((1, 8), (12, 40), (24, 30), (36, 22)),
        (500_000, 0.8, 50_000, 10_000_000, 1_000),
        (380, 800),
        (0.20, 0.20, 0.60),
        (0.20, 0.15, 0.15, 0.50),
        0.3,
        1,
    ),
    "fixed_asset": PurposeSpec(
        0.05,
        (("equipment_loan", 100),),
        ((36, 30), (48, 20), (60, 30), (84, 10), (120, 10)),
        (800_000, 0.8, 100_000, 20_000_000, 1_000),
        (420, 700),
        (0.50, 0.50, 0.0),
        (0.0, 0.60, 0.0, 0.40),
        0.4,
        1,
    ),
    "project": PurposeSpec(
        0.03,
        (("project_loan", 100),),
        ((36, 30), (60, 40), (84, 20), (120, 10)),
        (2_000_000, 0.8, 200_000, 20_000_000, 10_000),
        (450, 800),
        (0.20, 0.50, 0.30),
        (0.0, 0.50, 0.25, 0.25),
        0.5,
        1,
    ),
    "other": PurposeSpec(
        0.07,
        (("general_loan", 100),),
        ((12, 40), (24, 30), (36, 30)),
        (80_000, 0.8, 5_000, 1_000_000, 100),
        (500, 1500),
        (0.70, 0.20, 0.10),
        (0.60, 0.0, 0.0, 0.40),
        0.1,
        0,
    ),
}
