"""Intent and query rules (parse.md "intent"), including the none cases the bot must stay silent on."""

import pytest


@pytest.mark.parametrize(
    ("sender", "text", "intent"),
    [
        ("chenjianguo", "12月30日走访阿土伯，送了一桶油两袋米", "visit"),
        ("wmh006x7Qe", "海峰昨天来过了，陪我坐了好一会，谢谢啊", "visit"),
        ("wmh038x7Qe", "吴老师今天来家里看孩子了", "visit"),
        ("zhouzhiqiang", "上周六去赵大爷家看了 老毛病又犯了", "visit"),
        ("zhengguoping", "今朝上午到阿宝伯屋里走了一趟，屋顶有点漏，我回头跟村里讲下", "visit"),
        ("wmh019x7Qe", "俺想要副老花镜，报纸上的字看不清爽了", "wish"),
        ("wmh037x7Qe", "能不能帮我买个电热毯，夜里冷得睡不着", "wish"),
        ("wanghaifeng", "帮王大妈登记个微心愿：想要一个助行器", "wish"),
        ("wmh049x7Qe", "希望能给孩子买个护眼台灯，他写作业那个灯坏了", "wish"),
        ("wmh003x7Qe", "我家门口的路灯坏了好几天了，麻烦找人修一下", "request"),
        ("wmh008x7Qe", "我想申请低保，要准备哪些材料", "request"),
        ("wmh040x7Qe", "我家屋后有人私自占地搭了个猪棚，两家都吵了好几回了", "request"),
        ("chenjianguo", "应春燕要办个居住证明，明天谁去镇里顺便帮她代办一下", "request"),
        ("wmh003x7Qe", "路灯修好了 亮堂多了 满意👍", "feedback"),
        ("wmh044x7Qe", "国平来过了，鸡的事说开了，打4分吧", "feedback"),
        ("wmh026x7Qe", "屋顶上礼拜修过了，昨天一落雨又漏了，还没修好", "feedback"),
        ("wangli", "柴国强家门口的路灯修好了，他说很满意", "feedback"),
        ("panxiaodong", "田海燕家前天去过了，家长对学校的处理很不满意", "visit"),
    ],
)
def test_intents(parse, sender, text, intent):
    assert parse(text, sender=sender).intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "收到",
        "👍",
        "[图片]",
        "[图片][图片]",
        "好的 知道了",
        "哈哈哈哈😂",
        "新年快乐🎉🎉 祝陈书记身体健康万事如意",
        "【转发】宁海县2026年度城乡居民医保缴费开始啦！",
        "转发：端午节放假安排",
        "今天下午镇里开会，走访明天再去",
        "各位辛苦了，这个月的走访大家抓紧，月底前重点户要全覆盖",
        "走访这个词什么意思啊 是不是就是串门",
        "新装的路灯好看是好看，就是颜色有点怪哈哈",
        "今年橘子收成好，谁要吃来我家摘😄",
        "明天上午九点村委会开会，各位准时到",
        "大家好，我是联户党员陈雅婷，有什么事可以随时找我😊",
        "@联户小助手",
        "明天去走访蒋立新",
    ],
)
def test_none(parse, text):
    r = parse(text, sender="zhangwei")
    assert r.intent == "none"
    assert r.households == [] and r.triggers == []


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("@联户小助手 12月份还有哪些户没走访到", "unvisited"),
        ("本月还有哪几户没走", "unvisited"),
        ("我联系了哪些户啊", "my_households"),
        ("查一下我联系的户", "my_households"),
        ("我上次讲的电线那个事体办得怎么样了", "request_status"),
        ("我那个电热毯的心愿有人认领了没", "request_status"),
        ("上回托你们代办的社保续缴弄好了没有", "request_status"),
        ("本月重点户走访情况怎么样", "key_households"),
        ("2月份重点户都走访到了吗？", "key_households"),
        ("我的积分多少", "points"),
        ("上个月积分排名发一下", "points"),
        ("10月汇总", "summary"),
        ("这个小助手怎么用啊，走访记录是直接发文字就行吗", "help"),
        ("@联户小助手 怎么用", "help"),
    ],
)
def test_queries(parse, text, query):
    r = parse(text, sender="chenjianguo")
    assert (r.intent, r.query) == ("query", query)


def test_feedback_rating(parse):
    assert parse("桥栏杆弄好了 打5分", sender="wmh047x7Qe").rating == "满意"
    assert parse("修好了，打3分吧", sender="wmh047x7Qe").rating == "基本满意"
    assert parse("还是漏，打1分", sender="wmh047x7Qe").rating == "不满意"
    assert parse("不满意，说了等于白说", sender="wmh046x7Qe").rating == "不满意"
    assert parse("瓦片已经补好了，谢谢村里，非常满意", sender="wmh039x7Qe").rating == "满意"


def test_to_dict_has_contract_keys(parse):
    d = parse("昨天去了蒋立新家", sender="zhangwei").to_dict()
    assert {"intent", "query", "month", "households", "date", "triggers"} <= set(d)
    assert d["date"] == "2026-11-25"
