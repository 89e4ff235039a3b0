"""The vocabulary of the synthetic registry (:mod:`loaders.generate`): cities with their
registration-authority codes, roads, industries, names, the lists records fall on and the
penalties an authority gives, each with the weights it is drawn with."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import Final

from graph.model import SanctionList, Severity

__all__ = [
    "CITIES",
    "CITY_CUM",
    "COMPANY_LISTS",
    "COMPANY_LIST_CUM",
    "COMPOUND_SURNAMES",
    "FOREIGN",
    "GIVEN_FEMALE",
    "GIVEN_MALE",
    "HOLDING_INDUSTRY",
    "ID_CHECK",
    "ID_WEIGHTS",
    "INDUSTRIES",
    "INDUSTRY_CUM",
    "MARKET_BANS",
    "PENALTIES",
    "PERSON_LISTS",
    "PERSON_LIST_CUM",
    "ROADS",
    "SEVERITY_FINES",
    "SURNAMES",
    "SURNAME_CUM",
    "TRADE_CHARS",
    "City",
]


@dataclass(frozen=True)
class City:
    short: str
    full: str
    division: str
    municipality: bool
    districts: tuple[str, ...]


CITIES: Final = (
    City(
        "上海",
        "上海市",
        "310000",
        True,
        ("浦东新区", "徐汇区", "静安区", "闵行区", "嘉定区", "青浦区"),
    ),
    City(
        "北京",
        "北京市",
        "110000",
        True,
        ("朝阳区", "海淀区", "丰台区", "通州区", "大兴区", "西城区"),
    ),
    City(
        "深圳",
        "深圳市",
        "440300",
        False,
        ("南山区", "福田区", "宝安区", "龙岗区", "罗湖区", "龙华区"),
    ),
    City(
        "广州",
        "广州市",
        "440100",
        False,
        ("天河区", "越秀区", "海珠区", "白云区", "番禺区", "南沙区"),
    ),
    City(
        "杭州",
        "杭州市",
        "330100",
        False,
        ("西湖区", "上城区", "拱墅区", "滨江区", "余杭区", "萧山区"),
    ),
    City(
        "成都",
        "成都市",
        "510100",
        False,
        ("锦江区", "武侯区", "青羊区", "成华区", "金牛区", "双流区"),
    ),
    City("苏州", "苏州市", "320500", False, ("姑苏区", "吴中区", "相城区", "虎丘区", "吴江区")),
    City(
        "南京",
        "南京市",
        "320100",
        False,
        ("玄武区", "秦淮区", "鼓楼区", "建邺区", "江宁区", "浦口区"),
    ),
    City("武汉", "武汉市", "420100", False, ("江汉区", "武昌区", "洪山区", "江岸区", "汉阳区")),
    City("天津", "天津市", "120000", True, ("和平区", "河西区", "南开区", "滨海新区", "西青区")),
    City("重庆", "重庆市", "500000", True, ("渝中区", "江北区", "南岸区", "九龙坡区", "渝北区")),
    City("西安", "西安市", "610100", False, ("雁塔区", "碑林区", "未央区", "莲湖区", "长安区")),
    City("宁波", "宁波市", "330200", False, ("海曙区", "鄞州区", "江北区", "北仑区")),
    City("厦门", "厦门市", "350200", False, ("思明区", "湖里区", "集美区", "海沧区")),
    City("福州", "福州市", "350100", False, ("鼓楼区", "台江区", "仓山区", "晋安区")),
    City("青岛", "青岛市", "370200", False, ("市南区", "市北区", "黄岛区", "崂山区")),
    City("东莞", "东莞市", "441900", False, ("南城街道", "东城街道", "长安镇", "虎门镇")),
)
CITY_CUM: Final = tuple(accumulate((14, 12, 11, 9, 8, 6, 6, 5, 5, 4, 4, 4, 3, 3, 2, 3, 2)))

ROADS: Final = (
    "人民路", "建设路", "中山路", "解放路", "长江路", "科技路", "创业路", "新华路", "环城北路",
    "滨江大道", "世纪大道", "工业园路", "金融街", "学府路", "高新大道", "复兴路", "和平路",
    "光明路", "东风路", "青年路", "文化路", "迎宾大道", "春晓路", "湖滨路", "江南大道",
)  # fmt: skip

TRADE_CHARS: Final = (
    "恒盛鑫源宏达瑞丰金泰永兴汇通天诚博远嘉禾正信华安中联新创佳和明辉德润顺隆昌盈益凯腾飞"
    "宇晟越邦卓峰海星云睿智弘泽康乐美景誉振立众合耀科翔锦富祥启航万豪鼎"
)

INDUSTRIES: Final = (
    ("贸易", "批发和零售业", 10),
    ("商贸", "批发和零售业", 8),
    ("科技", "科学研究和技术服务业", 10),
    ("信息技术", "信息传输、软件和信息技术服务业", 6),
    ("网络科技", "信息传输、软件和信息技术服务业", 6),
    ("软件", "信息传输、软件和信息技术服务业", 3),
    ("实业", "制造业", 5),
    ("电子", "制造业", 4),
    ("机械设备", "制造业", 3),
    ("新材料", "制造业", 2),
    ("食品", "制造业", 3),
    ("建设工程", "建筑业", 5),
    ("建筑装饰工程", "建筑业", 3),
    ("物流", "交通运输、仓储和邮政业", 4),
    ("供应链管理", "租赁和商务服务业", 4),
    ("企业管理咨询", "租赁和商务服务业", 5),
    ("人力资源", "租赁和商务服务业", 2),
    ("文化传媒", "文化、体育和娱乐业", 4),
    ("餐饮管理", "住宿和餐饮业", 3),
    ("房地产开发", "房地产业", 2),
    ("物业管理", "房地产业", 2),
    ("医药", "批发和零售业", 2),
    ("生物科技", "科学研究和技术服务业", 2),
    ("环保科技", "水利、环境和公共设施管理业", 2),
    ("教育科技", "教育", 2),
    ("融资租赁", "金融业", 1),
)
INDUSTRY_CUM: Final = tuple(accumulate(weight for _, _, weight in INDUSTRIES))
HOLDING_INDUSTRY: Final = "租赁和商务服务业"

SURNAMES: Final = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
    "魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾"
)
SURNAME_CUM: Final = tuple(accumulate(max(1, 60 - i) for i in range(len(SURNAMES))))
COMPOUND_SURNAMES: Final = ("欧阳", "司马", "上官", "诸葛", "司徒")
GIVEN_MALE: Final = "伟强磊军勇杰涛明超华建国平刚辉鹏斌宇浩俊峰志文龙海波东晨昊博凯健荣"
GIVEN_FEMALE: Final = "芳娜敏静丽艳娟霞秀玲婷雪琳慧颖倩洁燕萍红梅兰晶琴云欣怡佳悦思雯"
FOREIGN: Final = (
    ("US", ("James", "Michael", "Robert", "Sarah", "Emily"), ("Miller", "Johnson", "Brown")),
    ("GB", ("Oliver", "Emma", "William", "Charlotte"), ("Wilson", "Taylor", "Clarke", "Hughes")),
    ("DE", ("Hans", "Katrin", "Stefan", "Julia"), ("Müller", "Schmidt", "Weber", "Fischer")),
    ("SG", ("Wei Ming", "Hui Ling", "Jun Jie"), ("Tan", "Lim", "Ng", "Goh")),
    ("JP", ("Kenji", "Yuki", "Takashi", "Haruka"), ("Tanaka", "Suzuki", "Sato", "Watanabe")),
    ("KR", ("Min-jun", "Ji-woo", "Seo-yeon"), ("Kim", "Park", "Lee", "Choi")),
    ("AU", ("Jack", "Chloe", "Liam"), ("Smith", "Walker", "Harris")),
)

ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK: Final = "10X98765432"

COMPANY_LISTS: Final = (
    (SanctionList.ADMIN_PENALTY, 45),
    (SanctionList.ABNORMAL_OPERATION, 28),
    (SanctionList.DISHONEST_JUDGMENT_DEBTOR, 11),
    (SanctionList.MAJOR_TAX_VIOLATION, 6),
    (SanctionList.SERIOUS_DISHONEST, 6),
    (SanctionList.MARKET_BAN, 4),
)
COMPANY_LIST_CUM: Final = tuple(accumulate(weight for _, weight in COMPANY_LISTS))
PERSON_LISTS: Final = (
    (SanctionList.DISHONEST_JUDGMENT_DEBTOR, 70),
    (SanctionList.MARKET_BAN, 18),
    (SanctionList.ADMIN_PENALTY, 12),
)
PERSON_LIST_CUM: Final = tuple(accumulate(weight for _, weight in PERSON_LISTS))

PENALTIES: Final = (
    ("市场监督管理局", "《中华人民共和国广告法》第五十五条", "发布虚假广告，欺骗、误导消费者"),
    ("市场监督管理局", "《中华人民共和国产品质量法》第四十九条", "生产、销售不符合国家标准的产品"),
    ("市场监督管理局", "《中华人民共和国食品安全法》第一百二十四条", "经营超过保质期的食品"),
    ("市场监督管理局", "《中华人民共和国反不正当竞争法》第二十条", "对商品作虚假的商业宣传"),
    ("生态环境局", "《中华人民共和国大气污染防治法》第九十九条", "超标排放大气污染物"),
    (
        "应急管理局",
        "《中华人民共和国安全生产法》第九十七条",
        "未按照规定对从业人员进行安全生产培训",
    ),
    ("消防救援支队", "《中华人民共和国消防法》第六十条", "消防设施、器材未保持完好有效"),
    (
        "住房和城乡建设局",
        "《建设工程质量管理条例》第六十四条",
        "施工中偷工减料，使用不合格建筑材料",
    ),
    ("税务局", "《中华人民共和国税收征收管理法》第六十二条", "未按照规定的期限办理纳税申报"),
)
MARKET_BANS: Final = (
    ("国家市场监督管理总局", "《中华人民共和国食品安全法》第一百三十五条"),
    ("中国证券监督管理委员会", "《证券市场禁入规定》第五条"),
    ("国家药品监督管理局", "《中华人民共和国药品管理法》第一百一十八条"),
)
SEVERITY_FINES: Final = {
    Severity.MINOR: (500, 20_000, 100),
    Severity.GENERAL: (20_000, 200_000, 1_000),
    Severity.SERIOUS: (200_000, 5_000_000, 10_000),
}
"""Fine range in CNY (low, high, rounding step) for an administrative penalty of each severity."""
