"""Rule-based reader of 联户 chat messages: intent, query, month, households, visit date, 八必访 triggers.

The contract is shared/spec/parse.md. All word lists live in nlp/data/vocab.toml (or a deployment's
override file); this module holds only the order in which the rules are applied.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from nlp.dates import find_days, find_month
from nlp.households import HouseholdIndex, Mention
from nlp.linear import LinearModel
from nlp.model import IntentModel
from nlp.roster import Household, Member, Roster
from nlp.segment import Segmenter
from nlp.text import CLAUSE_SPLIT, clause_bounds, cn_to_int, is_contentless, normalize
from nlp.vocab import Vocab, load_dialect, load_vocab

INTENTS = ("visit", "wish", "request", "query", "feedback", "none")
QUERIES = ("unvisited", "my_households", "request_status", "key_households", "points", "summary", "help")
# what a resident (or an unknown sender) can ask the bot
_RESIDENT_QUERIES = {"request_status", "help"}
# ...unless they name one of the members' questions outright ("本月未走访户" from a resident: the bot says it is for
# members, rather than that it did not understand)
_MEMBER_QUERY_NOUNS = re.compile(r"未走访户|联系户|(联系|负责)(了|的)?(哪些|哪几)户|重点户|汇总|积分")
# words to another person in the group ("@王丽 侬那几户走完了伐"): a question to them, not to the bot
_DONE_ALREADY = re.compile(r"(我|已经|早就)[^,.!?]{0,4}(交|发|报|送)(到|给|上去|出去|了)|已经(发|转)(到)?群里")
_ASKED_OUTRIGHT = re.compile(r"[?？吗呢]|没有?\s*$|什么时候|啥时候|哪一步|到哪|(怎么样|咋样|如何)了|有(消息|着落|眉目)")
_REPORT_DONE = re.compile(r"(走访|走|跑|看|去)(了|过)一(遍|圈|趟)|(走访|上门|看望|探望)了(?![吗没])")
_HOW_MANY = re.compile(r"几|多少|哪|啥|什么|怎么|汇总|统计")
_AFTER_THEN = re.compile(r"(过了|等)[^,.!?]{1,6}再(去|来|上门|走访|跑|看)")
_EARLIER_TIME = re.compile(r"上(趟|次|回)|那(次|回|趟)|之前")
_WHEN_FIXED = re.compile(r"什么时候|啥时候|几时|哪天")
_EARLIER_REPORT = re.compile(r"上次|上回|之前|早就|(报|反映|讲|说|提)(过|的|了)|帮(我|我们)(问|办|弄|报|讲)的")
_TO_SOMEONE_ELSE = re.compile(r"^\s*@(?!联户|小助手|机器人|助手)\S{1,8}\s|\s@(?!联户|小助手|机器人|助手)\S{1,8}\s*$")
_MONTH_QUERIES = {"unvisited", "key_households", "summary", "points"}
# a query needs to sound like one: a question word, a command to show/send, or a short message
# ("有着落没": a trailing 没 asks too)
_ASKING = re.compile(
    r"[?？吗呢哪几啥]|多少|什么|怎么|咋|没有|了没|[没伐]\s*$"
    r"|查|发|报|看|给我|列|说下|出来|有没有|情况|如何|名单|清单|排名|进度|完成率|状态|地步"
    # a request to be shown one ("再发我一份", "总结一下", "帮我出一份")
    r"|一份|总结一下|统计一下|出一份"
    # a month's summary named ("2026年10月的走访汇总"; "建议我汇总一下" is no question)
    r"|月份?[^,.!?]{0,4}(的)?(走访)?(汇总|统计)"
)
_PAST = re.compile(r"了|过|刚")
# words whose 了/过 is no aspect: "过去/过来" is going over ("我马上过去看看": still to come; "过去了" keeps its
# 了), 了解 is finding out
_OVER = re.compile(r"过(去|来)|了解|不过|难过|过(年|节|日子)")
_AGAIN = re.compile(r"又(?!要|会|得)[^,.!?]{0,3}(坏|漏|不亮|堵|断|停|不行|爆|裂|塌|掉|冒|渗|跳闸|黑|没水|没电)")
# a plan that asks someone to do it ("明天谁去镇里帮她代办一下"), not the member's own plan ("到时候要去帮忙")
_ASKS_SOMEONE = re.compile(r"谁|哪位|有没有人|找个?人|派个?人|网格员|电工|师傅|组长|大家帮忙|大家[^,.!?]{0,4}办法")
# (an emoji after it ends the sentence too: "有人认领了伐😊")
_FA = re.compile(r"(?<=[了过的人好弄修办去来吃有要])[伐哇](?=\W|$)")
# voice-to-text repeats a word when the speaker hesitates ("想 想再去看一看"): one is enough
# (one character repeated only where it opens a clause: "来寻我 我今朝上门" is two clauses, not a stutter)
_STUTTER = re.compile(
    r"([\u4e00-\u9fff]{2}) \1(?=[\u4e00-\u9fff])|(?<![\u4e00-\u9fff])([\u4e00-\u9fff]) \2(?=[\u4e00-\u9fff])"
)
# someone not heard from ("两天没出门 电话也不接", "联系不上"): the member who goes to look is the answer
_UNREACHABLE = re.compile(r"联系不上|失联|没(见|看到)?[^,.!?]{0,3}出门|不接|没人接|打不通|没打通|关机")
# nobody home at first, then met ("下午再去一趟 总算碰着了")
_MET_AT_LAST = re.compile(
    r"(总算|终于|后来|这趟|这回|第二趟)[^,.!?]{0,4}(碰着|碰到|见到|遇到|有人|在家|在屋里|开门|碰上)"
    # ("这周一去了石磊家 门关着没人 这周二又去了一趟 人在")
    r"|(又|再)(去|跑)了一?(趟|次|回)?[,\s]*(人在|在家|有人|碰(到|着)|见(到|着))"
)
# a going just before a weak visit verb, and a person (老孙, 阿婆, 王伯) just after it
_WENT_SAW = re.compile(r"(去|到)[^,.!?]{0,4}$")
_PERSON = re.compile(r"(老|阿)[\u4e00-\u9fff]|[\u4e00-\u9fff]{1,2}(伯|婆|叔|婶|嫂|姨|公|爷|奶|大妈)")
# a repair that did not hold ("补是补过了 一落雨又漏了", "补的水泥又裂开了")
_REPAIR_FAILED = re.compile(
    r"(修|弄|换|补|通)(是(修|弄|换|补|通))?(过了?|了)[^?]{0,16}(又|还是)|(修|补|换|弄)的[^,.!?]{0,6}又"
)
# grumbles about what everyone shares (a price, a rule, a power cut announced) and words taken back
_POLICY_GRUMBLE = re.compile(r"(又要|年年|又)(涨|停电|停水)|(?<![不没])涨(价|了)|规定|一刀切|收费标准")
_JUST_TALK = re.compile(r"(讲讲|说说)而已|随便(讲讲|说说)|开(玩笑|个玩笑)的|不(讲|说)了\s*不(讲|说)了|大家忙大家的")
_FAMILY_NOTICE = re.compile(r"讣告|喜帖|请柬")
_GO_LOOK = re.compile(r"(去|过去)[^,.!?]{0,3}(看|望)")
_POLITE = re.compile(r"^\s*(好的|好|收到|知道了|晓得了|嗯)[\s,.!]*(谢谢|感谢)|点(个)?赞|人(真|蛮|老|交关|特别)好")
_HELP_ALL = re.compile(r"(大家|各位)[^,.!?]{0,4}(看看|想想)(有)?(啥|什么)?办法")
_MEMORY = re.compile(r"记得[^,.!?]{0,6}(老早|以前|那时|当年|小时候)|老早[^,.!?]{0,8}(时候|那时)|想当年")
_ASKS_AROUND = re.compile(r"^\s*(有人|有谁|谁)(晓得|知道)|(谢谢|感谢|收到)[^,.!?]{0,3}提醒")
# a yes/no ask ("村里礼堂能借来用一下伐"); a matter told several times before ("反映了好几回了 一直拖着")
_YES_NO_ASK = re.compile(r"(能|可以|可不可以|能不能|好不好|好弗好|能弗能)[^,.!?]{0,10}(伐|吗|[?？])")
_TOLD_BEFORE = re.compile(r"(反映|讲|报|提)(了|过)[^,.!?]{0,4}(好几|几|交关|多少)(回|趟|次|遍)")
# an errand named; someone hurt or ill; the sender's own earlier report, or months of waiting
_ERRAND = re.compile(
    r"找(个)?人|派(个)?人|帮[^,.!?]{0,8}(交|办|弄|修|买|送|拿|问)|泥水匠|泥瓦匠|水电工|电工|师傅|木匠|修理工"
)
# the village asked to step in ("请村里尽快出面", "能不能村里出面调解一下")
_ASKS_VILLAGE = re.compile(r"(请|能不能|可不可以|希望|叫)(村里|村委|镇里)[^,.!?]{0,6}(出面|调解|处理|解决|帮忙|派人)")
_MY_OWN_SCORE = re.compile(r"我(的)?[^,.!?]{0,4}(积分|分数)")
_ASK_YOU = re.compile(r"(侬|你|您)[^,.!?]{0,2}帮(忙|我|阿拉|下|一下)")
_HURT = re.compile(r"摔|跌(了|倒|伤|断|下|跤)|骨折|住院|生病|发烧|中风")
_MY_EARLIER = re.compile(
    r"(上次|上回|上趟|之前|前两天|前几天)[^,.!?]{0,3}(报|反映|讲|提|说)的|(都|已经)[一二三四五六七八九十两几0-9半]+个?(多)?月(了)?"
)
# what was done for me ("帮我装的扶手很牢"): a verdict on a job done
_DONE_FOR_ME = re.compile(r"帮(我|阿拉)[^,.!?的]{1,4}的")
# reassurance, or a question put to whoever knows: no ask of the village
_NO_MATTER = re.compile(r"(不|弗|勿)要紧|没(啥)?事(的)?$|还好|有(人|谁)(晓得|知道)|谁(晓得|知道)")
_OWN_PLACE = re.compile(r"(阿拉|我们|我)(家|屋)|门口|屋里|家里|屋后|屋前")
_TO_OTHERS = re.compile(r"谁|哪个|哪位|自己")
_THANKS_FOR_CARE = re.compile(r"谢谢[^,.!?]{0,6}(关心|想着|惦记|挂念|记挂)")
_CORRECTED = re.compile(r"更正|实际(上)?是|其实是|记错")
_JUST_NOW = re.compile(r"刚(刚|才)?")
# a verdict points back at something done or waited for (else a trouble told is a new one)
_POINTS_BACK = re.compile(
    r"谢|满意|[0-9一二三四五]\s*(分|颗星)|好了|弄好|修好|老样子|白(讲|说|报)|没(人)?(来|管|理|弄|修|动)"
)
# households named one after another, with nothing but a joining word between them
_LISTED = re.compile(r"[\s,、和跟与及同还有]*")
# a visit put off, said of one household ("潘小芬许爱华两家初六以后再去", "应春燕家下个礼拜去")
_LATER = re.compile(
    r"(再|以后|之后|回头|改天|过(两|几|一)(天|日)|下(个)?(礼拜|星期|周|月)|明天|后天|等(他|她|伊|人)?[^,.!?]{0,4}回来)"
    r"[^,.!?]{0,4}(去|来|跑|上门|走访|看|望|打)"
)
# a message not answered ("郭静那边我发了消息还没回")
_NO_REPLY = re.compile(
    r"(消息|信息|微信)[^,.!?]{0,4}(还)?(没|弗|不)回|没进(去|门)|本来约(了|好)|(?<=[\s,])没(有)?人(?=[\s,.!?]|$)"
)
# someone met after a shut door ("蒋立新不在 他老婆在", "这周二又去了一趟 人在")
_MET_AFTER = re.compile(
    r"(老婆|老公|儿子|女儿|媳妇|家里人|老伴|人|屋里人)[^,.!?\s]{0,2}在(家|屋里)?(?=[,.!?\s]|$)|开了门|(又|再)(去|跑)了一?(趟|次|回)"
)
# all the homes of a list ("两家都锁着门", "两家我都去劝了")
_ALL_OF_THEM = re.compile(r"(两|几|三|四|五)(家|户)[^,.!?]{0,3}(都|全)|(都|全)(不在|没人|锁|关)")
# both homes of a quarrel ("我帮两家讲讲和了")
_BOTH = re.compile(r"(两|几)(家|户|边)")
# someone's words reported ("施月娥说下个月10号要去上海做手术"): no plan of the member's
_TOLD = re.compile(r"(说|讲|讲起|说起)")
# someone asked for to fix a fault
_GET_FIXED = re.compile(r"(请|找|叫|寻)(个)?人[^,.!?]{0,6}(弄|修|看|补|换|上去|处理)")
# named as someone else's neighbour or kin
_SOMEONE_ELSES = re.compile(r"(隔壁|邻居|(他|她|伊)(哥|弟|姐|妹|哥哥|弟弟|姐姐|妹妹|亲家))$")
# a fall told by the one who fell
_FELL = re.compile(r"(我|阿拉|俺)[^,.!?]{0,8}(摔|跌)了")
# a household's words passed on, the verb inside them
_HOUSEHOLD_SAYS = re.compile(r"[\u4e00-\u9fff]{2,3}(讲|说)(?!好|了)")
# no food in the house
_NO_FOOD = re.compile(r"米缸|米桶|揭不开锅|吃不饱|没饭吃|断粮|吃了上顿没下顿")
# a household's ask, told by its member ("说想请书记有空去她家坐坐")
_REPORTED_ASK = re.compile(r"(讲|说)[^,.!?]{0,4}(想|要)?(请|让|叫)")
# one member asking another to go ("麻烦老郑帮忙去看一下")
_ASKS_A_MEMBER = re.compile(r"(麻烦|请|叫|让)(老|小)[\u4e00-\u9fff][^,.!?]{0,4}(去|过去|跑)")
# help offered to whoever needs it
_OFFER = re.compile(
    r"(有(什么|啥)|需要)[^,.!?]{0,6}帮忙[^,.!?]{0,6}(可以|尽管|随时|就)?(叫|找|喊|联系|打电话给)(我|阿拉)"
)
# someone asked to act on what was passed on
_HANDLE_IT = re.compile(r"(要|得|请|需要)(尽快|赶紧|马上|抓紧)?[^,.!?]{0,2}(处理|解决|出面|调解|介入)")
# a new trouble after thanks for an old one
_NEW_TROUBLE = re.compile(
    r"这(次|趟|回)(是|又是)|另外|还有(个|一个|一桩|件|一件)|现在是|又有(个|一个|件|一件|桩)?(事|问题|麻烦)"
    r"|现在[^,.!?]{0,8}又|又(说|讲)|(麻烦|能|能不能)再[^,.!?]{0,4}(帮|安排|找|派)"
)
# something waited for: asked, reported, promised or chased before ("还没", "讲了三日", "催了几趟")
_AWAITED = re.compile(
    r"还|仍|又|一直|讲了|说了|报了|反映|催|说好|讲好|答应|等了|几趟|几次|好几|上次|上回|之前|早就|回音|消息|下文|动静"
)
_JOKING = re.compile(r"哈哈|呵呵|😂|🤣|😄|😁|笑死")
# "要是…就好了", "如果…多好": what one wishes were so
_IF_ONLY = re.compile(r"(要是|如果|假如|要)[^,.!?]{1,16}(就好了|多好|该多好)")
_REPORTED = re.compile(r"(?<![问想要来请])问(我|他|她|伊|了问|过)|(电话|去|就|顺便|顺带|他|她|伊|老人|人家)问")
# the rest of a clause that makes it a yes/no question ("停电吗?")
_YES_NO = re.compile(r"[^,.!?;]{0,2}?(吗|伐)\s*[?]?\s*$|[^,.!?;]{0,2}?(吗|伐)?\s*\?")
# a resident's own trip, told before the verb in its clause ("我们去跃龙广场看过了")
_OWN_TRIP = re.compile(r"(?<![回过进出上下])(去|到)(?!我|俺|咱|阿拉|你|侬|您)")
# come and sit / see / chat: what a resident asks for when asking to be visited
_COME_SIT = re.compile(r"来[^,.!?]{0,4}(看看|坐坐|坐一坐|望望|一趟|坐会|坐一会|聊聊|说说话|讲讲话)")
_SELF = re.compile(r"我|俺|咱")
# a resident's own family ("我儿子前日骑车摔伤了…谢谢关心"): what befell them is news of this household
_OWN_FAMILY = re.compile(
    r"(我|我们|俺)(家|屋里)?的?(儿子|女儿|老伴|老公|老婆|老头子|老太婆|孙子|孙女|妈|爸|老娘|老爹|媳妇"
    # (their own rooms: "我们灶头间烧起来了")
    r"|灶头间|灶间|厨房|房子|老屋|柴间|猪棚)"
    r"|(两个|大|小|二)(儿子|女儿)"
    # (or said bare, as the sender's own: "唉 日子难过 老公厂里失业两个月了")
    r"|(^|[\s,.!?])(老公|老婆|老头子|老太婆|老伴)"
    # (a quarrel the sender had with the neighbours: "跟隔壁为了屋檐滴水吵了一架")
    r"|^[^,.!?]{0,6}(跟|和|同)(隔壁|邻居)"
)
# what was done during a visit, told after it ("…吃了杯老酒", "陪伊聊了半天")
_DONE_AFTER = re.compile(r"(吃|聊|坐|喝|陪|讲|说|谈|送)了")
# visit words no call can stand for
_STRONG_VISIT = re.compile(r"走访|上门|入户|家访|看望|探望")
# the placeholder a shared link leaves (placeholders are blanked by normalize, so it is read first)
_SHARED_LINK = re.compile(r"^\s*\[(链接|文章|公众号|视频号|小程序)\]")
_HOUSEHOLD_NEWS = {"hardship", "illness", "emergency", "wedding_funeral"}
_NOT_TO_THE_BOT = re.compile(
    # questions to the members: who has not sent, who has it, who will send ("谁把用法再发一遍", "表格谁有？")
    r"谁(还)?没(交|报|发|填|补)|谁(把|来(?!着)|能把)|谁有|(交|报)了没有?[^,.!?]{0,3}(大家|各位)|谁家[^,.!?]{0,8}(抓紧|赶紧|尽快)"
    # the sender will send it themself ("名单我稍后发"); the points shop or what a meeting will announce
    r"|(我|俺)(稍后|等下|等会|晚点|回头)(发|报|给)|积分(超市|兑换|怎么兑|怎么换)|通报积分"
    # rhetorical ("数字好看有啥用？", "积分是天上掉下来的？")
    r"|有(啥|什么)用|天上掉下来"
    # days gone by ("老早时候我联系的那几户 每个月都要去跑一趟")
    r"|老早(时候|那时)"
    # a count the sender collects from the members ("受灾的户统计一下 明天中午前报给我")
    r"|(前|之前)报给我|报上来"
    # urging the members who have not ("还有几个同志重点户没走访的，今明两天抓紧")
    r"|(同志|大家|各位)[^,.!?]{0,8}没(走访|走|去)的?[^?]{0,10}(抓紧|赶紧|尽快)"
    # teaching a household to use something ("教他手机上医保码怎么用")
    r"|教(他|她|伊|老人)[^,.!?]{0,12}怎么用"
)
_KEY_KINDS = re.compile(r"重点户|重点人群|重点对象|困难户|困难家庭|空巢|留守|危重")
_FEAR = re.compile(r"怕|担心|万一|省得|免得")
_CAUTION = re.compile(r"不要|别|不能|不准|小心|当心|注意")
# a question said outright (an urge to everyone without one is no question to the bot: "还有几户没走访的抓紧哦")
_ASKED_MARK = re.compile(r"[?？吗伐]|哪")
_URGE = re.compile(r"抓紧|尽快|赶紧|务必|一定要|记得|补一下|补上|补齐")
_SEP = frozenset(" ,;:!?，。；：！？、】\n")
# a day to come, before the verb in its clause
_FUTURE_DAY = re.compile(r"明天|后天|明早|明晚|下周|下个?星期|下个?礼拜|下个?月|明年")
# a question about when, in the clause before a visit word
_WHEN = re.compile(r"什么时候|啥时候|哪天|几时|哪一天|有没有空|有空(的话)?(?!了)")
# the clause asks whether the visit happened: "去过了没有?", "看过了吗"
_VISIT_ASKED = re.compile(r"[^,.!?;]{0,4}?(没有|没|吗|伐)\s*[?,.!;]?\s*$|[^,.!?;]{0,6}\?")
_NOT_YET = re.compile(r"没(有|人)?(去|走访|上门|来)|还没")


@lru_cache(maxsize=32)
def _days(t: str, today: date) -> tuple:
    """find_days once per message: the visit, its date and the call rule all ask."""
    return tuple(find_days(t, today))


# what follows a day in "昨日去的": the going itself
_WENT_ON = re.compile(r"\s*(去|来|走访|上门|看)的\s*$")
# a broken state that is the repair itself ("老线头都换掉了", "坏的拆掉了")
_FIXED_STATE = re.compile(r"(换|拆|扔|剪|清|除|卖|修)(掉|好)了?$")
# a round where every home was shut ("两家都不在"): no visit, however many homes are named
# (not "黄家两户都锁着门": a count of households makes it some of them)
_ALL_FAILED = re.compile(r"(?<![两三四几2-9]户)(?<!趟)(?<!次)(?<!回)(?<!遍)(都|全)(不在|没人|没在|锁着|关着)")
# after a name at the start: 你 and then a question ("张伟 老王屋里这个月你去过了吗")
_ASKS_YOU = r"[^.!?。！？]{0,12}(?:你|侬)(?!们)[^.!?。！？]{0,12}(?:吗|没有|[?？])"
_THANK_YOU = re.compile(r"谢谢(你|侬|您)")
_SELF_AWAY = re.compile(r"我(不在|没在)(家|屋里)?[^.!?]{0,12}(陪|招待|接待)")
_PASS_ON = re.compile(r"(讲|说|通知|告诉)(一声|一下)")
# a wish of long ago ("小时候最想要的就是一双解放鞋"): a memory, not a wish to register
_OLD_WISH = re.compile(r"(小时候|那时候|以前|年轻(的)?时候|[一二三四五六七八九十几0-9]+年前)[^,.!?]{0,8}(想要|心愿|盼)")
# a relative (or a neighbour) who made the call
_KIN_CALLS = re.compile(r"(妈|爸|老娘|老爹|儿子|女儿|老婆|老公|孙子|孙女|媳妇|邻居|隔壁|亲戚)[^,.!?]{0,2}$")
# a tick after a name in a member's list of homes
_TICKED = re.compile(r"[^\s✔✅√☑]\s?[✔✅√☑]")
# a member's own going, with no household named ("我下午过去调解一下")
# ("请阿拉去吃喜酒" is an invitation to the member, not their going)
_SELF_GO = re.compile(r"(?<![请叫让约喊])我[^,.!?]{0,6}(过去|过来|去|跑|上门)")
_GO = re.compile(r"去|跑|上门|走访|看看|望望|坐坐|看一下|过来")
_QUESTION = re.compile(r"[?？吗]|怎么|咋|哪里|哪儿|什么|啥|谁|几点|几时|多少|有没有|能不能")
# the trigger kinds that on their own make a message a request (someone must act)
_ACTION_TRIGGERS = {"emergency", "dispute", "violation", "petition", "hardship", "discontent"}


# How sure the parser is (ParseResult.confidence, 0..1). The bot acts on a parse at or above ACT; between ASK
# and ACT it asks a member back ("要记为走访吗？回 1 记下") or, for a resident, puts the message on the member's
# private daily list; below ASK it stays silent. docs/parse.md explains the figures.
ACT = 0.75
ASK = 0.5
# the n-gram model's posterior needed to overrule a default `none` (naive Bayes posteriors crowd near 1)
MODEL_BAR = 0.999
# where the model may speak besides a resident's default `none` (see Parser._model_says)
MODEL_MODES: frozenset[str] = frozenset()
# A second opinion (round 10): where the rules' reading and the linear model's (nlp/linear.py) disagree in one of
# these ways, the model's is taken when its probability reaches the bar given. Chosen on 6,060 rows of 40 sets, each
# read by the rules as they stood when the set arrived and by a model trained without that set: in these cells the
# model was right more often than the rules, by the margins in docs/parse.md ("Round 10"); elsewhere the rules keep
# the say. (rules' intent, sender's role) -> {model's intent: bar}
SECOND_OPINION: dict[tuple[str, str], dict[str, float]] = {
    ("resident", "request"): {"none": 0.8, "feedback": 0.8, "wish": 0.8},
    ("resident", "feedback"): {"request": 0.8},
    ("member", "request"): {"none": 0.8},
    ("member", "visit"): {"none": 0.8},  # only with no household named (Parser._second)
    ("member", "query"): {"none": 0.9},
    ("member", "feedback"): {"none": 0.8},
    ("member", "wish"): {"none": 0.8},
}


@dataclass
class ParseResult:
    intent: str = "none"
    query: str | None = None
    month: str | None = None
    households: list[str] = field(default_factory=list)
    date: date | None = None
    triggers: list[str] = field(default_factory=list)
    ambiguous: list[tuple[str, ...]] = field(default_factory=list)
    rating: str | None = None
    confidence: float = 0.9
    # the member a query is about ("张伟这个月走访了几户" -> "M04"), else None
    member: str | None = None
    # why a text that speaks of a visit is not one: planned / failed / asked / instructed / call_at_home
    not_visit: str | None = None
    # a visit report that also carries a need ("棚子塌了一半，想请村里找人帮忙"): register a request too
    need: bool = False
    # a correction of the sender's own earlier record: {"action": "undo"|"replace", "kind": "visit"|"request"|
    # "wish"|None, "ref": "诉求3"|None, "wrong": [户编号], "right": [户编号]}
    correction: dict[str, Any] | None = None
    # a resident's message that makes no record but may need someone (a question, a complaint, distress, or a
    # reading the parser is unsure of): it goes on the member's private daily list ("登记 3" registers it)
    attention: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "query": self.query,
            "month": self.month,
            "households": list(self.households),
            "date": self.date.isoformat() if self.date else None,
            "triggers": list(self.triggers),
            "ambiguous": [list(a) for a in self.ambiguous],
            "rating": self.rating,
            "confidence": round(self.confidence, 2),
            "member": self.member,
            "not_visit": self.not_visit,
            "need": self.need,
            "correction": self.correction,
            "attention": self.attention,
        }


class Parser:
    def __init__(
        self, roster: Roster, vocab_path: str | Path | None = None, dialect_path: str | Path | None = None
    ) -> None:
        self.vocab: Vocab = load_vocab(vocab_path)
        self._dialect_all = load_dialect(dialect_path)
        self._seg = Segmenter(self.vocab.words)
        self._model: IntentModel | None = None  # trained on first need (nlp/model.py)
        # the model's bar and where it may speak (devtools/parse_cv.py compares settings by cross-validation)
        self.model_bar = MODEL_BAR
        self.model_modes: frozenset[str] = MODEL_MODES
        self._linear: LinearModel | None = None  # the second reader, loaded on first need (nlp/linear.py)
        self.second_opinion: dict[tuple[str, str], dict[str, float]] = SECOND_OPINION
        raw = self.vocab.raw.get("intent", {}).get("request", {})
        objs = "|".join(sorted(raw.get("fault_object", []), key=len, reverse=True))
        states = "|".join(f"(?:{x})" for x in raw.get("fault_state", []))
        # object, then within the same clause its broken state: "桥头那盏灯黑了一个礼拜了"
        self._fault = re.compile(f"(?:{objs})[^,.!?;:\\s]{{0,8}}?(?:{states})") if objs and states else None
        self._fault_object = re.compile(objs) if objs else None
        self.update_roster(roster)

    def update_roster(self, roster: Roster) -> None:
        self.roster = roster
        self.index = HouseholdIndex(roster, self.vocab.kinship)
        self._seg.set_words(set(self.vocab.words) | self.index.dictionary_words())
        # a dialect form inside someone's name stays as written (陈今朝): such names are matched first, kept whole
        names = {h.head_name for h in roster.households} | {a for h in roster.households for a in h.aliases}
        names |= {m.name for m in roster.members}
        guard = {n for n in names if any(k in n for k in self._dialect_all)}
        self._dialect = self._dialect_all
        alts = sorted(set(self._dialect_all) | guard, key=len, reverse=True)
        self._dialect_rx = re.compile("|".join(re.escape(k) for k in alts)) if alts else None
        self._dialect_guard = guard
        # names that hold a date word (邬国庆, 陈元旦) are masked before days are looked for: 国庆 there is a person
        from nlp.dates import date_words_in

        dated = sorted({n for n in names if date_words_in(n)}, key=len, reverse=True)
        self._dated_names = re.compile("|".join(re.escape(n) for n in dated)) if dated else None
        away = self.vocab.get("visit.away_address")
        self._away = {h.id for h in roster.households if away is not None and away.search(h.address or "")}
        # how a member is addressed at the start of an instruction: 张伟 / 海峰 / 丽丽 / 小王
        self._member_names: list[tuple[str, str]] = []
        # every name a household goes by (老王 = 王根发): 老+surname of a member only when no household is called so
        hh_forms = {f: h.id for h in roster.households for f in (h.head_name, *h.aliases) if len(f) >= 2}
        for m in roster.members:
            forms = {m.name}
            if len(m.name) == 3:
                forms.add(m.name[1:])
            if len(m.name) >= 2:
                forms.add(m.name[-1] * 2)
                forms.add("小" + m.name[0])
                if "老" + m.name[0] not in hh_forms:  # ("老郑 侬积分多少了")
                    forms.add("老" + m.name[0])
            for f in forms:
                self._member_names.append((f, m.id))
        self._member_names.sort(key=lambda x: len(x[0]), reverse=True)
        self._address_ids = {f: mid for f, mid in reversed(self._member_names)}
        # a resident who opens with a neighbour's name and asks them ("老王 侬医保交了伐"): words between
        # neighbours, not to the member or the bot
        member_forms = {f for f, _ in self._member_names}
        hh_alt = "|".join(re.escape(f) for f in sorted(set(hh_forms) - member_forms, key=len, reverse=True))
        self._hh_forms = hh_forms
        self._hh_address_rx = re.compile(f"^({hh_alt})[ ,:，：、]") if hh_alt else None
        # (or asks them for a hand: "袁立峰 侬明朝帮我带两包化肥")
        self._neighbour_rx = (
            re.compile(f"^({hh_alt})[ ,:，：、]+(?:{_ASKS_YOU}|(?:你|侬)[^.!?。！？]{{0,6}}帮(?:我|我们|阿拉))")
            if hh_alt
            else None
        )
        alt_all = "|".join(re.escape(f) for f, _ in self._member_names)
        self._address_rx = re.compile(f"^({alt_all})[ ,:，：、]") if alt_all else None
        # ...and one named, then 你 ("张伟你上个月积分比我还高")
        # (or asked later in the sentence: "张伟 老王屋里这个月你去过了吗")
        self._address_you_rx = (
            re.compile(
                f"^({alt_all})"
                r"(?:[ ,:，：、]*(?:你|侬)"
                f"|[ ,:，：、]+{_ASKS_YOU})"
            )
            if alt_all
            else None
        )
        full = "|".join(re.escape(m.name) for m in roster.members if len(m.name) >= 2)
        self._member_rx = re.compile(full) if full else None
        # a member named by a resident as the one who came or went ("吴敏姑娘前天又来了", "李秀兰今天去看了冯阿林")
        # (by surname and title too: "王委员来送了副春联", "李主任冬至来阿拉屋里坐了")
        titled = {m.name[0] + x for m in roster.members if m.name for x in ("书记", "主任", "委员", "老师")}
        forms = sorted({f for f, _ in self._member_names} | titled, key=len, reverse=True)
        alt = "|".join(re.escape(f) for f in forms)
        self._member_form_rx = re.compile(f"(?:{alt})(?:书记|主任|委员|姑娘|小伙子?|同志|阿姨|老师)?") if alt else None
        self._came_rx = (
            re.compile(
                f"(?:{alt})[^,.!?;:\\s]{{0,8}}?(?<!没)(?<!不)来"
                # came (来了/来过/来我…), or came to give or help and did it (来给我送了, 来帮我把…装好了, 来送了副春联)
                "(?:(?:了|过|我|阿拉|俺|咱)(?![吗没伐?])|(?:给|帮|替)(?:我|阿拉|俺)[^,.!?;]{0,12}(?:了|过)(?![吗没伐?])"
                "|(?:送|陪|坐)了|陪(?:我|我们)"
                # came to the home and did something there ("小吴来屋里送月饼")
                "|(?:屋里|家里)(?:送|坐|看|拜|聊|转|兜)(?![^,.!?]{0,3}(?:吗|没|伐|[?])))"
                # brought something ("小周送月饼来")
                f"|(?:{alt})[^,.!?;:\\s]{{0,4}}?(?:送|拿|带)[^,.!?;:\\s]{{1,6}}?来(?![吗没伐?])"
            )
            if alt
            else None
        )

    def _date_text(self, t: str) -> str:
        """`t` with the roster names that contain a date word blanked out (same length, so positions hold)."""
        if self._dated_names is None:
            return t
        return self._dated_names.sub(lambda m: "\u3000" * len(m.group(0)), t)

    def rewrite(self, t: str) -> str:
        """Dialect and voice-to-text forms in Mandarin (nlp/data/dialect.toml)."""
        if self._dialect_rx is None:
            return t
        guard, table = self._dialect_guard, self._dialect
        t = self._dialect_rx.sub(lambda m: m.group(0) if m.group(0) in guard else table[m.group(0)], t)
        # 宁波话's question particle 伐 at the end of a sentence ("有人弄伐") is 吗; 伐木/滥伐 stay
        t = _STUTTER.sub(lambda m: m.group(1) or m.group(2), t)
        return _FA.sub("吗", t) if ("伐" in t or "哇" in t) else t

    # ------------------------------------------------------------------------------------------------
    def parse(
        self,
        text: str,
        sender: str | None = None,
        chat: str = "group2",
        today: date | None = None,
        *,
        rules_only: bool = False,
    ) -> ParseResult:
        """Read one message. `rules_only`: no second opinion (for a clause cut from a message already read whole,
        where the model, trained on whole messages, has no say)."""
        # the text as every rule reads it (dialect and voice forms in Mandarin), made once for both readers
        t = self.rewrite(normalize(text))
        res = self._read(text, t, sender, chat, today or date.today())
        if rules_only or res.correction is not None or not self.second_opinion:
            return res
        # (chat the rules are sure of — a greeting, 收到, a forward, words to everyone — is not asked about)
        if res.intent != "none" or res.confidence < 0.9:
            role = "member" if self.roster.member_by_userid(sender) else "resident"
            if (role, res.intent) in self.second_opinion:
                self._second(res, t, role, sender)
        return res

    def _second(self, res: ParseResult, t: str, role: str, sender: str | None) -> None:
        """The model's reading where the rules' is weakest (SECOND_OPINION): a sure disagreement wins, and the
        result is marked unsure, so a member is asked back and a resident's words go to the member's private
        list (handlers/unsure.py, handlers/attention.py), never answered in public."""
        if _JOKING.search(t) or _POLITE.search(t) or _MEMORY.search(t):
            return
        if res.intent == "feedback" and role == "member" and res.households:
            return  # a named household's verdict passed on by its member ("彭建军…他说蛮好 让我替他谢谢村里")
        if res.intent == "visit" and (res.households or self._rx("visit.call", t)):
            # a visit to a household the roster knows is the rules' to read (the model was right about as often
            # as they were); a call is a visit only with a household living away, which the model cannot know
            return
        if self._linear is None:
            from nlp.linear import load_default

            self._linear = load_default()
        label, p = self._linear.predict(t, role)
        if p < self.second_opinion[(role, res.intent)].get(label, 2.0):
            return
        if res.intent == "request" and label == "none":
            # what the rules read surely: an ask put as a question ("礼堂能借来用一下伐"), an errand named ("麻烦找人
            # 去修"), someone hurt, a fault described ("堤坝有裂缝 怕下雨出事")
            # (a household telling of its own hurt is often news with reassurance: "住院开刀了 儿子囡都在 弗要紧")
            hurt = role == "member" and _HURT.search(t)
            # (a member passing on a named household's trouble, with no visit planned or sent: "王彩娥家孙子读高中
            # 学费有困难", "郭静两天联系不上了 谁有伊厂里同事的电话")
            passed_on = (
                role == "member"
                and bool(res.households)
                and res.not_visit is None
                and bool(_ACTION_TRIGGERS & set(res.triggers))
            )
            # (and a danger or a petition threat told by a resident: "堤坝有裂缝 怕下雨出事")
            danger = role == "resident" and (
                "petition" in res.triggers or ("emergency" in res.triggers and not _HURT.search(t))
            )
            asked = _YES_NO_ASK.search(t) or _ASK_YOU.search(t) or _ERRAND.search(t)
            # (and an outright ask, or a trouble at the sender's home or with a public thing: "门口路灯坏了 有事打我
            # 电话…")
            own_trouble = (
                role == "resident"
                and not _NO_MATTER.search(t)
                and (
                    self._rx("request.strong", t)
                    or (
                        (_OWN_PLACE.search(t) or (self._fault_object and self._fault_object.search(t)))
                        and self._problem(t)
                    )
                )
            )
            # (or a resident with no food in the house: "家里米缸见底了 这个月还没到发钱的时候"; laments about work and
            # wages the writers call chat)
            hard_up = role == "resident" and "hardship" in res.triggers and _NO_FOOD.search(t) is not None
            if asked or hurt or danger or passed_on or own_trouble or hard_up or self._fault_told(t):
                return
        if res.intent == "query" and (
            _MY_OWN_SCORE.search(t)
            or (res.query == "help" and len(t) <= 12)
            or (_MEMBER_QUERY_NOUNS.search(t) and len(t) <= 20)
        ):
            # the sender's own points ("我积分到底多少"), a short call for help, a short question in the bot's own
            # words ("2026年10月的走访汇总", "张伟本月未走访户"): asked of the bot
            return
        if (
            res.intent == "request"
            and label == "feedback"
            and (
                _NEW_TROUBLE.search(t)
                or not (_POINTS_BACK.search(t) or _AWAITED.search(t))
                # ("灶间的水管又漏了": the fault is back, with no word of the repair: a new request)
                or (_AGAIN.search(t) and not self._complaint(t, res.triggers))
            )
        ):
            # a new trouble after thanks for the last one, or a trouble that points back at nothing (no wait, no
            # thanks, no verdict): "垃圾桶三天没人清了 臭死" is news
            return
        if (
            res.intent == "feedback"
            and label == "request"
            and (
                res.rating in ("满意", "基本满意")
                or _DONE_FOR_ME.search(t)
                or _MY_EARLIER.search(t)
                or (_TOLD_BEFORE.search(t) and "petition" not in res.triggers)
                # ("村里来看过了，到现在还搭在那里一点没动，糊弄人呢": displeasure at work not done)
                or (
                    "discontent" in res.triggers
                    and "petition" not in res.triggers
                    and self._rx("feedback.not_fixed", t)
                )
            )
        ):
            return  # a verdict that is pleased, or a matter told before and still waiting, is no new request
        res.intent, res.confidence, res.rating, res.need = label, 0.6, None, False
        res.query = res.month = res.member = None
        if label == "none":
            res.date, res.households, res.ambiguous = None, [], []
            res.attention = role == "resident"
        else:
            res.not_visit = None
            if not res.households:
                home = self.roster.household_by_external(sender)
                res.households = [home.id] if home else []
            if label == "feedback":
                res.rating = self._rating(t, res.triggers)

    def _read(self, text: str, t: str, sender: str | None, chat: str, today: date) -> ParseResult:
        """The rules' reading; `text` as written, `t` as the rules read it."""
        to_someone_else = _TO_SOMEONE_ELSE.search(text or "") is not None
        if _SHARED_LINK.match(text or ""):
            return ParseResult(confidence=0.98)  # a link shared ("[链接] 医保开始缴费啦"): news, like a forward
        res = ParseResult(confidence=0.98)
        if not t or is_contentless(t) or t in self.vocab.none_exact or t.rstrip("!。.~ ") in self.vocab.none_exact:
            return res
        if self._rx("forward", t):
            # (an obituary or a wedding invitation pasted in still tells of a household's 红白喜事)
            if _FAMILY_NOTICE.search(t) and "wedding_funeral" in self._triggers(t):
                res.triggers = ["wedding_funeral"]
            return res

        member = self.roster.member_by_userid(sender)
        resident = None if member else self.roster.household_by_external(sender)
        own = self.roster.households_of(member.id) if member else None

        correction = self._correction(t, own, resident, today)
        if correction is not None:
            res.correction, res.confidence = correction, 0.9
            # "刚才那条记错了，是前天去的蒋立新家": the corrected visit itself, to be recorded instead
            has = bool(self.index.find(t, own=own, resident_of=resident, today=today, token_starts=None))
            # only a correction that names the household and the day is a report of its own
            if not (has and _days(self._date_text(t), today)) or self._visit(t, has, today, member, chat)[0] < 0:
                return res

        # (a trouble put to everyone — "邬国庆化疗的费用交不起了 大家看看有啥办法" — is a request)
        if self._rx("broadcast", t) and not self._problem(t, own=True) and not _HELP_ALL.search(t):
            # words to everyone ("请大家15号前把情况报上来"): no question to the bot, no wish, no request
            res.confidence = 0.85
            res.triggers = [x for x in self._triggers(t) if x in ("illness", "wedding_funeral")]
            return res
        # words to another member that urge them ("张伟 你那几户这个月一户都没走 抓紧") are no question to the bot
        addressed_you = member is not None and self._addressed_you(t, member)
        urged = member is not None and (
            (_URGE.search(t) is not None and (self._addressed(t, member) or not _ASKED_MARK.search(t))) or addressed_you
        )
        # a member who @s someone else asks them, not the bot (a resident @-ing their member about their matter
        # still asks for its progress)
        asks_another = (member is not None and (to_someone_else or addressed_you)) or (
            resident is not None and self._asks_neighbour(t, resident)
        )
        query = None if urged or asks_another else self._query(t, member is not None, chat == "private")
        if query and member is not None and chat == "group1" and _JOKING.search(t) and _TO_OTHERS.search(t):
            # "有谁晓得王丽积分咋介高的 哈哈": banter among members, not a question to the bot ("我是联系哪五户的？
            # 忘记了😂" still asks it)
            query = None
        if query:
            res.intent, res.query = "query", query
            res.confidence = 0.9 if (_ASKING.search(t) or query == "help") else 0.75
            if query in _MONTH_QUERIES:
                res.month = find_month(t, today) or f"{today.year:04d}-{today.month:02d}"
            if query in ("unvisited", "summary", "key_households", "points", "my_households"):
                res.member = self._member_named(t)
            if query == "request_status":
                # what a resident's question about their matter also tells of the household ("低保的事办得怎么样了？
                # 屋里实在没钱了"); the matter's own kind (电鱼, 到底有没有人管) is no news
                res.triggers = [x for x in self._triggers(t) if x in _HOUSEHOLD_NEWS]
            return res

        mentions = self.index.find(t, own=own, resident_of=resident, today=today, token_starts=self._seg.token_starts)
        res.triggers = self._triggers(t)

        if self._rx("feedback.score", t):
            visit_at, why = -1, None
        else:
            visit_at, why = self._visit(t, bool(mentions), today, member, chat, named=len(mentions))
        res.not_visit = why
        res.confidence = 0.85
        if visit_at >= 0 and "mem_visit_weak" in self.model_modes and member is not None and not mentions:
            # a member's visit word with no household named: the model may call it chat
            label, p = self._ask_model(t, "member")
            if label == "none" and p >= self.model_bar:
                visit_at, why = -1, None
        if visit_at >= 0 and member is None and self._rx("feedback.satisfied", t) and _EARLIER_TIME.search(t):
            # "上趟侬来帮阿拉弄好以后 隔壁客客气气 谢谢侬 满意": a verdict on what was done then, not news of a visit
            visit_at, why = -1, None
        if visit_at >= 0 and member is None and self._rx("feedback.unsatisfied", t):
            # "瓦片是盖好了 我弗满意 叫来的人马马虎虎": a verdict on the work, not news of a visit
            visit_at, why = -1, None
        if visit_at >= 0 and member is None and self._rx("feedback.not_fixed", t):
            # "墙上那个缝来看过了讲要修 到现在一个多月了还是老样子": someone came, nothing changed: a complaint
            visit_at, why = -1, None
        if visit_at >= 0:
            res.intent = "visit"
            # the door shut the first time, met the next: the day of the meeting
            again = _MET_AT_LAST.search(t) if self._rx("visit.failed", t) else None
            res.date = self._visit_date(t, again.start() if again else visit_at, today)
            # the same words read as a report of a problem: the visit also registers a request
            res.need = self._need(t) and self._other_intent(t, [], True) == "request"
        elif why == "asked" and member is not None and _ASKS_A_MEMBER.search(t):
            # "邵秀珍那边麻烦老郑帮忙去看一下": one member asking another to go, no household's ask
            res.intent, res.confidence = "none", 0.8
        elif why == "asked":
            # a resident asking to be visited (or their ask passed on by their member: "石磊讲 村里好不好派个人去
            # 看看"); "我的心愿是过年前有人上门给我理个发" is a wish
            res.intent = "wish" if "心愿" in t else "request"
            res.confidence = 0.75
        elif why == "call" and (mentions or resident is not None):
            # a call with households that live away is the visit; with a household at home it is not
            hh, _amb = self._households(mentions, member is not None, resident)
            if len(hh) >= 2:
                # a round of calls where one did not get through: that home was not reached
                missed = self._not_met(t, mentions, "visit.call_failed")
                hh = [h for h in hh if h not in missed] if missed != set(hh) else hh
            if hh and all(h in self._away for h in hh):
                res.intent, res.not_visit = "visit", None
                # the day said with the call ("谢谢你昨天夜里跟我视频聊了那么久")
                call = self._rx("visit.call", t)
                res.date = self._visit_date(t, call.start() if call else 0, today)
            elif (
                member is not None
                and self._rx("visit.asked", t)
                and _REPORTED_ASK.search(t)
                and not _ASKS_A_MEMBER.search(t)
            ):
                # "姜阿姨今天打电话给我，说想请书记有空去她家坐坐": the household's ask to be visited, told from a call
                res.intent, res.confidence, res.not_visit = "request", 0.75, "asked"
            else:
                res.intent, res.confidence = self._classify(t, res.triggers, member is not None)
                res.not_visit = "call_at_home"
                if member is not None and not self._call_needs(t, res.intent, res.triggers):
                    # a member's call with a household at home: what it settled is no new matter
                    res.intent = "none"
        else:
            res.intent, res.confidence = self._classify(t, res.triggers, member is not None)
            # (news of a wedding or a funeral alone is the 八必访 signal, not something to register)
            unsure_chat = (
                res.intent == "none"
                and res.confidence <= 0.75
                and why is None
                and member is None
                and res.triggers != ["wedding_funeral"]
            )
            if unsure_chat:
                res.intent, res.confidence = self._model_says(t, res.intent, res.confidence)
            elif (
                "res_weak" in self.model_modes
                and member is None
                and why is None
                and res.intent in ("wish", "request", "feedback")
                and res.confidence <= 0.65
            ):
                # a weak rule (a bare plea, 希望…, a trigger alone): the model may overrule it
                label, p = self._ask_model(t, "resident")
                if label in ("none", "wish", "request", "feedback") and p >= self.model_bar:
                    res.intent, res.confidence = label, ASK + 0.05
            elif (
                "mem_none" in self.model_modes
                and member is not None
                and why is None
                and res.intent == "none"
                and res.confidence <= 0.75
                and not _JOKING.search(t)
            ):
                label, p = self._ask_model(t, "member")
                if p >= self.model_bar and (label == "request" or (label == "visit" and mentions)):
                    res.intent, res.confidence = label, ASK + 0.1
                    if label == "visit":
                        res.date = self._visit_date(t, 0, today)
            if unsure_chat and res.intent == "none":
                # still chat to the rules and the model, but it asks something or reveals a situation
                res.attention = bool(res.triggers or _QUESTION.search(t))
            # a member telling of a visit not made or to be made is no feedback, and no errand unless a problem is
            # told outright (an instruction about a household in trouble stays a request)
            if (
                why
                and member is not None
                and res.intent != "none"
                # (a household's ask for someone to come, passed on by their member, is their request)
                and why != "asked"
                # (the village asked to step in: "立峰说要去镇里信访 请村里尽快出面")
                and not (res.intent == "request" and _ASKS_VILLAGE.search(t))
                # a wish written down for someone who asks to be visited by a craftsman ("想请理发师上门") stays one
                and not (res.intent == "wish" and (why == "asked" or "心愿" in t))
                # someone unreachable, and the member asks the group for help ("谁有她厂里同事的电话？")
                and not (
                    res.intent == "request"
                    and why in ("failed", "planned")
                    and "emergency" in res.triggers
                    and _ASKS_SOMEONE.search(t) is not None
                )
                and not (
                    res.intent == "request"
                    and res.confidence > 0.6
                    and (
                        # the errand words of an instruction ("你务必跑一趟") are the visit itself: a request
                        # needs a trouble told ("摔了", "电话打不通") or an errand named (代办)
                        # (passing a word on to them — "跟卢金水讲一声 叫伊来拿补贴表" — is no errand)
                        # (someone not seen for days, the member told to go and look: the visit is the answer)
                        (
                            why == "instructed"
                            and self._trouble_or_errand(
                                _UNREACHABLE.sub("", t),
                                [x for x in res.triggers if x != "emergency" or not _UNREACHABLE.search(t)],
                            )
                            and not _PASS_ON.search(t)
                        )
                        or (why == "planned" and _ASKS_SOMEONE.search(t))
                    )
                )
            ):
                res.intent = "none"
        if (
            asks_another
            and res.intent in ("request", "wish", "feedback")
            and not (self._problem(t) or self._fault_told(t))
        ):
            # a member's words to someone else ("@王丽 你那边还有几户没去？我明天顺路帮你带一下"): an offer or a
            # question between them, no matter for the bot (a problem told to them still is one)
            res.intent = "none"
        if (
            res.intent == "feedback"
            and member is not None
            and _THANK_YOU.search(t)
            and self._hh_address_rx is not None
            and self._hh_address_rx.match(t)
        ):
            # a member thanking a household for a gift ("毛阿婆 粽子收到了 谢谢侬"): no verdict on a matter
            res.intent = "none"
        if (
            res.intent == "feedback"
            and member is None
            and _THANKS_FOR_CARE.search(t)
            and not (self._rx("feedback.fixed", t) or self._rx("feedback.score", t))
        ):
            # "重阳节 身体还是老样子 … 谢谢陈书记关心": thanks for the thought, no verdict on a matter
            res.intent, res.confidence = "none", 0.75
        if res.intent == "feedback":
            res.rating = self._rating(t, res.triggers)
        if res.intent == "none":
            if why:
                # a visit that did not happen still tells what the member found (电话打不通 -> emergency)
                res.confidence = 0.8
            elif (
                not self._rx("visit.call_failed", t)
                and not (member is not None and mentions)
                # (a grumble about a price or a rule keeps the displeasure it voices)
                and not (_POLICY_GRUMBLE.search(t) or _JUST_TALK.search(t))
                and not (member is None and _OWN_FAMILY.search(t))
            ):
                # ("电话打了三次都没接" keeps its emergency; so does what a member tells of a household they name)
                # (and a resident's own fall told as over: "摔了一跤 … 没伤到骨头 大家别担心")
                keep = ("illness", "wedding_funeral") + (("emergency",) if _FELL.search(t) else ())
                res.triggers = [x for x in res.triggers if x in keep]
            if res.triggers and member is not None and mentions:
                # the household the situation befell: no matter is opened, but its 八必访 task is (households of a
                # `none` are not scored)
                res.households = self._households(mentions, True, None)[0]
            return res
        res.households, res.ambiguous = self._households(mentions, member is not None, resident)
        if res.correction and res.correction.get("wrong") and res.correction.get("right"):
            # "不是严德富家 是蒋立新家 昨日去的": the visit is to the right one only
            res.households = [h for h in res.households if h not in res.correction["wrong"]]
        if res.intent == "visit" and len(res.households) >= 2:
            missed = self._not_visited(t, mentions)
            if missed and missed != set(res.households):
                res.households = [h for h in res.households if h not in missed]
            elif missed and why is None and not res.need:
                # a round where no home named was visited ("楼志明家…等他回来再去 应春燕家下个礼拜去"): no visit
                res.intent, res.date, res.households, res.confidence = "none", None, [], 0.8
                return res
        if res.intent == "visit":
            if why is None and visit_at >= 0:
                res.confidence = 0.9 if res.households and not res.ambiguous else 0.6
            else:
                res.confidence = 0.8
        elif res.ambiguous and not res.households:
            res.confidence = min(res.confidence, 0.6)
        return res

    def _ask_model(self, t: str, role: str) -> tuple[str, float]:
        if self._model is None:
            from nlp.model import load_default

            self._model = load_default(lambda s: self.rewrite(normalize(s)))
        return self._model.predict(t, role)

    def _model_says(self, t: str, intent: str, confidence: float) -> tuple[str, float]:
        """No rule fired on a resident's message: ask the n-gram model (nlp/model.py); only a very sure request,
        feedback or wish is taken, and with a confidence that makes the bot ask rather than answer."""
        if _JOKING.search(t) or _MEMORY.search(t) or _POLITE.search(t):
            # (a joke, a memory — "我记得老早侬阿爸在的时候 经常到我们屋里坐坐" — or a polite word that rates no
            # matter: "好的 谢谢你", "新修的路真好走 点个赞")
            return intent, confidence
        label, p = self._ask_model(t, "resident")
        if label in ("request", "feedback", "wish") and p >= self.model_bar:
            return label, ASK + 0.1
        return intent, confidence

    # -- correction, member, modality ---------------------------------------------------------------
    def _correction(
        self, t: str, own: tuple[Household, ...] | None, resident: Household | None, today: date
    ) -> dict[str, Any] | None:
        """撤销 / "记错了，不是王大伯是王大妈" / "刚才那条不是走访": the sender withdraws or corrects a record."""
        undo = self._rx("correction.undo", t)
        swap = self.vocab.get("correction.replace")
        sm = swap.search(t) if swap is not None else None
        if not undo and not sm:
            return None
        kind = None
        for word, k in (("走访", "visit"), ("诉求", "request"), ("心愿", "wish")):
            if word in t:
                kind = k
                break
        ref = re.search(r"(诉求|心愿|调整)\s*([0-9]+)", t)
        out: dict[str, Any] = {
            "action": "undo",
            "kind": kind,
            "ref": f"{ref.group(1)}{ref.group(2)}" if ref else None,
            "wrong": [],
            "right": [],
        }

        def ids(part: str) -> list[str]:
            ms = self.index.find(part, own=own, resident_of=resident, today=today, token_starts=None)
            return sorted({m.candidates[0] for m in ms if len(m.candidates) == 1})

        if sm is not None and sm.group("right"):
            right = ids(sm.group("right"))
            if right:
                out["action"] = "replace"
                out["wrong"], out["right"] = ids(sm.group("wrong")), right
        elif undo:
            rest = t[undo.end() :]
            out["wrong"] = ids(rest) if rest.strip() else []
        return out

    def _member_named(self, t: str) -> str | None:
        if self._member_rx is None:
            return None
        m = self._member_rx.search(t)
        if not m:
            return None
        for mem in self.roster.members:
            if mem.name == m.group(0):
                return mem.id
        return None

    def _addressed(self, t: str, sender: Member | None) -> bool:
        """The message opens by naming another member ("丽丽 蒋立新家你明天去一趟"): words to that member."""
        m = self._address_rx.match(t) if self._address_rx is not None else None
        return bool(m) and (sender is None or self._address_ids.get(m.group(1)) != sender.id)

    def _addressed_you(self, t: str, sender: Member | None) -> bool:
        """ "张伟你上个月积分比我还高": another member named, then 你: words to them, whatever they ask."""
        m = self._address_you_rx.match(t) if self._address_you_rx is not None else None
        return bool(m) and (sender is None or self._address_ids.get(m.group(1)) != sender.id)

    def _to_household(self, t: str) -> bool:
        """The message opens with a household's name ("王大妈 …"): a member speaking to that household."""
        return self._hh_address_rx is not None and self._hh_address_rx.match(t) is not None

    def _asks_neighbour(self, t: str, resident: Household) -> bool:
        m = self._neighbour_rx.match(t) if self._neighbour_rx is not None else None
        return m is not None and self._hh_forms.get(m.group(1)) != resident.id

    def _need(self, t: str) -> bool:
        """A visit report that carries a need: a problem or a plea said in the report itself."""
        r = self._rx
        return bool(self._problem(t) and (r("request.strong", t) or r("request.weak", t) or r("wish.strong", t)))

    # -- helpers --------------------------------------------------------------------------------------
    def _rx(self, key: str, t: str) -> re.Match[str] | None:
        rx = self.vocab.get(key)
        return rx.search(t) if rx is not None else None

    def _query(self, t: str, is_member: bool = True, private: bool = False) -> str | None:
        # (in a 1:1 chat with the bot whatever asks is asked of it: "6月份 全村 走访 汇总表" by voice)
        asking = bool(_ASKING.search(t)) or len(t) <= 12 or private
        if _NOT_TO_THE_BOT.search(t):
            return None  # "谁还没交11月份的走访汇总？": a question to the members, not to the bot
        if (len(t) > 80 or (_REPORT_DONE.search(t) and not _HOW_MANY.search(t))) and not _ASKED_OUTRIGHT.search(t):
            # a long report ("向大家汇报一下：…重点户都走了…"), or one that says the visits were made
            # ("两个重点户都走访了一遍 情况都稳定"), asks nothing
            return None
        for name in self.vocab.query_order:
            if name == "summary" and _KEY_KINDS.search(t):
                continue  # "重点户五月走了几户": the key households' question, not the month's summary
            if name == "unvisited" and _KEY_KINDS.search(t) and self._rx("query.unvisited", t):
                return "key_households"  # "困难家庭上个月有几户没去过": the unvisited among the key households
            if not is_member and name not in _RESIDENT_QUERIES and not _MEMBER_QUERY_NOUNS.search(t):
                # visits, households, points and summaries are members' questions ("好几天没看到你了" is no
                # question about unvisited households)
                continue
            m = self._rx(f"query.{name}", t)
            if m and _DONE_ALREADY.search(t) and not _ASKED_OUTRIGHT.search(t):
                continue  # the sender says it is done ("上个月的汇总我已经交到镇里了"): nothing asked
            if m:
                # reported speech is not a question to the bot: "王丽刚刚来过 问我低保的事办好了没有"
                cs = clause_bounds(t, m.start())[0]
                if _REPORTED.search(t, cs, m.start() + 1):
                    continue
                if name == "request_status" and _JOKING.search(t):
                    continue  # "灶君菩萨送了没 哈哈": a joke among neighbours
                if (
                    name == "request_status"
                    and _WHEN_FIXED.search(m.group(0))
                    # ("我报上去的…那桩事 啥辰光有人来弄": the sender reported it before)
                    and not (_EARLIER_REPORT.search(t) or "我报上去" in t)
                    and (self._problem(t) or self._fault_told(t))
                ):
                    # "路灯暗了一个多礼拜了 啥辰光来修修": the fault told for the first time, asking for it to be
                    # fixed, is the request itself (a matter reported before is asked after: "报的那盏灯啥时候修")
                    continue
                if name == "help" or asking:
                    return name
        return None

    def _visit(
        self, t: str, has_mention: bool, today: date, member: Member | None, chat: str = "group2", named: int = 0
    ) -> tuple[int, str | None]:
        """Position of the visit report in `t` (-1 when none happened) and, when the text speaks of a visit that
        did not happen, why: planned / failed / asked / instructed / call."""
        is_member = member is not None
        v = self.vocab.get
        planned, not_done, going, to_me = v("visit.planned"), v("visit.not_done"), v("visit.going"), v("visit.to_me")
        excl_rx = v("visit.exclude")
        instructed = v("visit.instructed")
        call_rx = v("visit.call")
        # read only once a visit word is found (most messages have none): spans where a "came to my home" is
        # water, a leak, a chicken; nobody home; asked to come; words to another member
        excl: list[tuple[int, int]] | None = None
        failed = asked = addressed = None
        days = None
        why: str | None = None
        found: list[int] = []
        # a resident naming the member who came or went: the member's visit, told by the resident
        member_ends: list[int] | None = None  # computed when a resident's going verb needs it
        if not is_member and self._came_rx is not None and "来" in t:
            asked = self._rx("visit.asked", t)
            asked_rx = v("visit.asked")
            # ("我弗在屋里 是阿拉老婆陪伊讲的": the resident was out, the visit still was made)
            failed = bool(self._rx("visit.failed", t)) and not _SELF_AWAY.search(t)
            for m in self._came_rx.finditer(t) if not failed else ():
                cs, ce = clause_bounds(t, m.start())
                promised = v("visit.promised")
                if (
                    not (planned is not None and planned.search(t[cs:ce]))
                    and not (asked and asked_rx is not None and asked_rx.search(t[cs:ce]))
                    # ("国平叔讲过年前来阿拉屋里": a promise to come)
                    and not (promised is not None and promised.search(t[cs:ce]))
                ):
                    found.append(m.start())
                    break
        if is_member and has_mention and not found:
            # a member's ticked list of homes ("毛阿婆✔️ 石磊✔️ 今天"): each tick is a visit made
            tick = _TICKED.search(t)
            if tick is not None and not (planned is not None and planned.search(t)):
                found.append(tick.start())
        for key in ("visit.resident", "visit.verbs", "visit.weak"):
            if found:
                break
            rx = v(key)
            if rx is None:
                continue
            for m in rx.finditer(t):
                if excl is None:
                    excl = [(x.start(), x.end()) for x in excl_rx.finditer(t)] if excl_rx is not None else []
                    # (nobody home at first, met later: "上午去没人 下午再去一趟 总算碰着了 聊了半个钟头")
                    failed = bool(self._rx("visit.failed", t)) and not _MET_AT_LAST.search(t)
                    if asked is None:
                        asked = self._rx("visit.asked", t)
                    addressed = is_member and self._addressed(t, member)
                if any(a <= m.start() < b for a, b in excl):
                    continue
                cs, ce = clause_bounds(t, m.start())
                # a resident going somewhere (去女儿家吃饭) is not a member's visit; "到我家来了" still is, and so
                # is a member the resident names as the one who went
                if (
                    not is_member
                    and key != "visit.resident"
                    and going is not None
                    and (
                        (going.match(m.group(0)) and (to_me is None or not to_me.search(m.group(0))))
                        # "我们去跃龙广场看过了": the resident's own trip, said before the verb
                        or _OWN_TRIP.search(t, cs, m.start())
                    )
                ):
                    if member_ends is None:
                        fr = self._member_form_rx
                        member_ends = [x.end() for x in fr.finditer(t)] if fr is not None else []
                    # the member is the one who went unless the resident speaks of themself after the name
                    # ("雅婷 我们去广场看过了": the member is only addressed)
                    if not any(cs <= e <= m.start() and not _SELF.search(t, e, m.start()) for e in member_ends):
                        continue
                clause = t[cs:ce]
                # aspect: 了/过 on the verb itself (走访了, 去过, 看了看), 刚 or 又 just before it
                near = t[m.start() : min(len(t), m.end() + 2)]
                before = t[max(cs, m.start() - 3) : m.start()]
                past_near = bool(_PAST.search(_OVER.sub("", near))) or "刚" in before or "又" in before
                if failed and not (named >= 2 and not self._failed_in(t, cs, ce) and not _ALL_FAILED.search(t)):
                    # (a round of several homes where one was shut: "罗勇 贺文斌 都在 田海燕上班去了没碰到" is still
                    # the visit to the others, unless the verb's own clause failed)
                    why = why or "failed"
                    continue
                if _FUTURE_DAY.search(t, cs, m.start()):
                    # "外孙明天来过六一": a day to come before the verb, whatever its aspect; a resident's "小张
                    # 明朝来我屋里坐坐" asks the member to come
                    why = why or ("asked" if not is_member and asked is not None else "planned")
                    continue
                if (
                    key != "visit.resident"
                    and call_rx is not None
                    and call_rx.search(t[cs:ce])
                    and (key == "visit.weak" or not _STRONG_VISIT.match(m.group(0)))
                ):
                    # "跟贺文斌视频聊了一下", "打电话给赵大爷拜了个年": the call rule decides (a visit only with a
                    # household living away)
                    continue
                if _WHEN.search(t, cs, m.start()):
                    # "你什么时候来我家", "哪天有空去看看他": asking for a visit, not telling one
                    if not is_member:
                        why = why or "asked"
                    continue
                if asked is not None and not past_near and (not is_member or asked.start() < m.start()):
                    # (a member's "…发现电线老化了 要找电工来看看" after the visit is no ask to be visited)
                    why = why or "asked"
                    continue
                if (
                    is_member
                    and (
                        addressed
                        # ("王大妈 灯换好了 您看看满意吗": the member speaks to a household, not to another member)
                        or (instructed is not None and instructed.search(clause) and not self._to_household(t))
                    )
                    and not past_near
                ):
                    # words to another member; a resident's "今天你来看我" is the member's visit told back
                    why = why or "instructed"
                    continue
                if not_done is not None and not_done.search(clause):
                    why = why or "failed"
                    continue
                clause_past = past_near or bool(_PAST.search(_OVER.sub("", clause)))
                planned_hit = planned is not None and planned.search(clause) is not None
                # a past day in the clause ("昨天去看方奶奶") marks the visit as done too; days are looked up only
                # when the answer could change
                past_day = False
                if planned_hit or not clause_past:
                    if days is None:
                        days = _days(self._date_text(t), today)
                    # (a festival still to come resolves to last year's: "国庆节打算去…" said in September)
                    past_day = any(cs <= d.start < ce and 0 < (today - d.day).days < 300 for d in days)
                if not clause_past:
                    if days is None:
                        days = _days(self._date_text(t), today)
                    if any(d.ahead and d.start < ce and not _PAST.search(_OVER.sub("", t[d.start : ce])) for d in days):
                        # "我礼拜六去她屋里了解下情况" said on a Friday, nothing done: a plan for tomorrow
                        why = why or "planned"
                        continue
                past = clause_past or past_day
                promised = self._rx("visit.promised", clause) is not None
                if (planned_hit or promised) and not past_near and (not past_day or promised):
                    # "海峰昨天说要来看我": the past day is when it was said, the visit is still to come
                    why = why or "planned"
                    continue
                if _AFTER_THEN.search(clause) and not past_near:
                    # "过了元宵再去彭建军屋里": the festival is when the visit will be, once it has passed
                    why = why or "planned"
                    continue
                if _NOT_YET.search(clause):
                    why = why or "planned"
                    continue
                if _VISIT_ASKED.match(t, m.end(), min(len(t), ce + 1)):
                    # a question about the visit ("王大伯家去过了没有?", "去过了吗"), not a report of it
                    continue
                if key == "visit.weak":
                    if self._rx("visit.met", t):
                        continue  # met by chance outside: no visit
                    if is_member and _HOUSEHOLD_SAYS.match(t, cs, m.start()):
                        continue  # "邵秀珍讲送餐送了一礼拜 …": the household's words passed on, not the member's going
                    if has_mention and past:
                        found.append(m.start())
                        break
                    if is_member and past_near and _WENT_SAW.search(t, cs, m.start()) and _PERSON.match(t, m.end()):
                        # "今朝去六组望了老孙": went somewhere and saw someone the roster cannot tell (the bot asks)
                        found.append(m.start())
                        break
                    if has_mention and _DONE_AFTER.search(t, ce):
                        # "阿宝伯今朝我去望望伊 老兄弟两个吃了杯老酒": told today, and what was done there follows
                        if days is None:
                            days = _days(self._date_text(t), today)
                        if any(cs <= d.start < ce and d.day == today for d in days):
                            found.append(m.start())
                            break
                    continue
                if not past and key != "visit.resident" and _FUTURE_DAY.search(t, 0, ce) and not _PAST.search(t):
                    # "明朝冬至，我上昼去毛阿婆家送汤圆": the day to come is said in another clause, no verb is done
                    why = why or "planned"
                    continue
                if key == "visit.resident" or past or has_mention:
                    found.append(m.start())
                    break
                if days is None:
                    days = _days(self._date_text(t), today)
                if any(d.day <= today for d in days):
                    found.append(m.start())
                    break
        if not found and why is None and not is_member:
            # "想有个人陪我讲讲话 侬有空来坐坐": asked to come, with no visit word of a report
            if asked is None:
                asked = self._rx("visit.asked", t)
            # (or asked to go and look in on someone: "能不能帮忙去望望伊")
            if asked is not None and (_COME_SIT.search(t) or _GO_LOOK.search(asked.group(0))):
                why = "asked"
        if found:
            # the report starts at its first visit word ("昨日去看方奶奶，伊讲孙子国庆回来过了")
            return min(found), None
        call_failed = v("visit.call_failed")
        failed_call = call_failed is not None and call_failed.search(t) is not None
        if why is None and is_member and planned is not None:
            # "侬老婆今朝打电话讲…吵起来了 我下半日过来": the member's own plan, whoever called
            go = _SELF_GO.search(t)
            if go is not None and planned.search(t, *clause_bounds(t, go.start())):
                why = "self_planned"
        if why is None and failed_call and self._rx("visit.call", t):
            why = "failed"  # the call did not get through: a contact that failed
        if why in (None, "failed", "planned") and (why != "failed" or named >= 2):
            # ("跟林志豪打了个视频 伊都好 郭静电话没打通": the call that got through is the visit to that home; "…打了个
            # 电话 伊讲年底结婚 到时候请阿拉去吃喜酒": a plan in another clause leaves the call made)
            for m in call_rx.finditer(t) if call_rx is not None else ():
                cs, ce = clause_bounds(t, m.start())
                if call_failed is not None and call_failed.search(t, cs, ce):
                    continue
                if _KIN_CALLS.search(t, max(cs, m.start() - 4), m.start()):
                    continue  # "我妈打电话来讲…", "伊女儿打电话来": a relative's call, no contact with the home
                if planned is not None and planned.search(t, cs, ce):
                    continue  # "过两天给他打个电话": a call to come (a plan elsewhere in the message does not count)
                # made: 了/过 on it, a call that came in ("打电话来"), or a day not after today in its clause
                if (
                    _PAST.search(t, m.start(), min(len(t), m.end() + 3))
                    or t[m.end() : m.end() + 1] in ("来", "问", "讲", "说", "聊")
                    or "刚" in t[max(cs, m.start() - 3) : m.start()]  # "刚刚打电话给我"
                    or "里" in m.group(0)  # "电话里讲…": told from a call that was made
                    # (or the day the report opens with: "12/5 同林志豪视频 …")
                    or any(
                        (cs <= d.start < ce or d.start == 0) and d.day <= today
                        for d in _days(self._date_text(t), today)
                    )
                ):
                    why = "call"
                    break
        if why == "self_planned":
            why = "planned"
        # (after the call: "跟林志豪视频了…问社保怎么转过去" is a call made, not a plan)
        if why is None and (has_mention or (is_member and _SELF_GO.search(t))) and _GO.search(t):
            if addressed is None:
                addressed = is_member and self._addressed(t, member)
            # no report-shaped verb at all ("你明天去一趟"): tell the handler what the words are, if it can
            if addressed or (instructed is not None and instructed.search(t) and not self._to_household(t)):
                why = "instructed"
            elif (planned := self.vocab.get("visit.planned")) is not None and any(
                # the plan in the going's own clause ("低保的事我想帮她报上去 … 材料要准备哪些" plans no visit)
                planned.search(t, *clause_bounds(t, g.start()))
                for g in _GO.finditer(t)
                if t[g.start() - 1 : g.start()] not in ("上", "下")
            ):
                why = "planned"
        return -1, why

    def _failed_in(self, t: str, cs: int, ce: int) -> bool:
        rx = self.vocab.get("visit.failed")
        return rx is not None and rx.search(t, cs, ce) is not None

    def _not_visited(self, t: str, mentions: list[Mention]) -> set[str]:
        """Households of a round that were not visited, each read in its own stretch of the message (from its
        clause to the next household's): the door shut ("严小红家 门关着"), put off ("童雪飞家这礼拜再去"), only
        called while living at home ("贺文斌那边是电话联系的"), or named as someone else's neighbour or kin
        ("他哥袁立峰").
        A household named twice counts as visited if one of its stretches says so."""
        failed, call = self.vocab.get("visit.failed"), self.vocab.get("visit.call")
        call_failed = self.vocab.get("visit.call_failed")
        # households listed together ("冯阿林 施月娥 杨建新三户", "鲍永康和柴国强两家") share one stretch
        groups: list[list[Mention]] = []
        for m in mentions:
            if groups and _LISTED.fullmatch(t[groups[-1][-1].end : m.start]):
                groups[-1].append(m)
            else:
                groups.append([m])
        missed: set[str] = set()
        met: set[str] = set()
        for i, g in enumerate(groups):
            ones = [m for m in g if len(m.candidates) == 1]
            if not ones:
                continue
            cs = clause_bounds(t, g[0].start)[0]
            own_end = clause_bounds(t, g[-1].start)[1]
            end = clause_bounds(t, groups[i + 1][0].start)[0] if i + 1 < len(groups) else len(t)
            end = max(end, own_end)
            own, stretch = t[cs:own_end], t[cs:end]
            ids = {m.candidates[0] for m in ones}
            why = None
            if _LATER.search(own) and not _REPORT_DONE.search(own) and not _TOLD.search(own):
                why = ids  # put off, in its own clause
            elif call is not None and call.search(own):
                if not (ids & self._away) or (call_failed is not None and call_failed.search(stretch)):
                    why = ids  # a call with a household at home is no visit; nor is a call not answered
            else:
                last = None
                for rx in (failed, _NO_REPLY, call_failed):
                    for f in rx.finditer(stretch) if rx is not None else ():
                        last = f if last is None or f.end() > last.end() else last
                if last is not None and not _MET_AFTER.search(stretch, last.end()) and not _MET_AT_LAST.search(stretch):
                    # "汪建平 章海涛 石磊 毛阿婆 汪丽萍出去旅游了": the shut door is the last one's, unless all were
                    # ("黄家两户都锁着门")
                    whole = len(ones) == 1 or _ALL_OF_THEM.search(stretch)
                    why = ids if whole else {ones[-1].candidates[0]}
                elif (
                    len(ones) == 1
                    and _SOMEONE_ELSES.search(t, max(0, g[0].start - 4), g[0].start)
                    and not _BOTH.search(t)
                ):
                    why = ids  # "杨建新跟隔壁任海波…吵了两句": the neighbour is told of, not visited
            if why:
                missed |= why
            met |= ids - (why or set())
        return missed - met

    def _not_met(self, t: str, mentions: list[Mention], key: str = "visit.failed") -> set[str]:
        """Households of a round told as not met in their own clause ("戴巧玲屋里没人", "郭静电话没打通")."""
        rx = self.vocab.get(key)
        if rx is None or rx.search(t) is None:
            return set()
        out: set[str] = set()
        for m in mentions:
            cs, ce = clause_bounds(t, m.start)
            if len(m.candidates) == 1 and rx.search(t, cs, ce):
                out.add(m.candidates[0])
        return out

    def _visit_date(self, t: str, at: int, today: date) -> date:
        days = [d for d in _days(self._date_text(t), today) if d.day <= today]
        if not days:
            return today
        cs, ce = clause_bounds(t, at)
        if _CORRECTED.search(t):
            # "更正：昨天报的走访严德富，实际是前天去的": the day the going was, not the day of the report
            for d in days:
                if _WENT_ON.match(t, d.end, clause_bounds(t, d.start)[1]):
                    return d.day
        inside = [d for d in days if cs <= d.start < ce]
        if inside:
            return inside[0].day
        if _JUST_NOW.search(t, cs, at + 1):
            return today  # "五一回不来了 刚跟小林视频了一下": the call was just now
        before = [d for d in days if d.end <= at]
        if before:
            return before[-1].day
        # "是蒋立新家 昨日去的": the day in the clause that says when the going was
        for d in days:
            ds, de = clause_bounds(t, d.start)
            if _WENT_ON.match(t, d.end, de):
                return d.day
        # a structured report: 【走访记录】 … 时间：11月18日
        labelled = [d for d in days if re.search(r"(时间|日期)\s*[:：]?\s*$", t[max(0, d.start - 5) : d.start])]
        if labelled:
            return labelled[0].day
        # a date said as a clause of its own ("入户走访 潘小芬 10月5日 家中正常") is the report's date
        for d in days:
            ds, de = clause_bounds(t, d.start)
            # (a dotted date "11.21" is split by clause_bounds at its dot: separators around it are what count)
            alone = (d.start == 0 or t[d.start - 1] in _SEP) and (d.end == len(t) or t[d.end] in _SEP)
            if t[ds:de] == t[d.start : d.end] or alone:
                return d.day
        return today

    def _other_intent(self, t: str, triggers: list[str], is_member: bool) -> str:
        return self._classify(t, triggers, is_member)[0]

    def _classify(self, t: str, triggers: list[str], is_member: bool) -> tuple[str, float]:
        """Intent other than visit/query, with how sure the rule that decided it is."""
        r = self._rx
        if r("feedback.score", t):
            return "feedback", 0.95
        if "petition" not in triggers and (
            _JUST_TALK.search(t)
            or (
                _POLICY_GRUMBLE.search(t)
                and not _QUESTION.search(t)
                and not (r("request.strong", t) or r("request.weak", t) or r("wish.strong", t))
            )
        ):
            # "年年涨 老百姓意见很大", "这个规定一刀切", "讲讲而已 还是要交的": a grumble about a price or a rule
            # everyone shares, or words taken back, asks no one to act (sure enough that the model is not asked)
            return "none", 0.8
        if _AGAIN.search(t) and (self._problem(t) or self._fault_told(t)):
            # "水管又漏了": the fault is back: a new request (the handler may reopen the old one); with a complaint
            # about the repair ("又不亮了，糊弄人", "上回修的那个又漏了") it is feedback on the handled one
            return ("feedback", 0.8) if self._complaint(t, triggers) else ("request", 0.75)
        if _OFFER.search(t) and not self._problem(t):
            # "大家有什么需要帮忙跑腿的可以叫我": help offered, nothing asked
            return "none", 0.8
        if r("social", t) and not self._problem(t) and not r("request.borrow", t):
            # an invitation to a feast, thanks for coming to it: chat
            return "none", 0.8
        if r("feedback.not_fixed", t) or r("feedback.unsatisfied", t) or r("feedback.basic", t):
            if "emergency" in triggers:
                # "我老公还是没消息 电话一直关机": someone missing, not a complaint about a matter
                return "request", 0.85
            if r("feedback.not_fixed", t) and r("request.weak", t) and not _EARLIER_REPORT.search(t):
                # "转学手续到现在还没办好 能不能帮我问问": a trouble of one's own asked about, no matter reported here
                return "request", 0.75
            if not (
                _AWAITED.search(t) or "discontent" in triggers or r("feedback.unsatisfied", t) or r("feedback.basic", t)
            ) and (self._problem(t) or self._fault_told(t)):
                # "垃圾桶年三十到现在没人来倒过 臭得要死": a lapse told for the first time, nothing awaited
                return "request", 0.75
            return "feedback", 0.85
        if r("feedback.satisfied", t) or (r("feedback.fixed", t) and not r("feedback.self_done", t)):
            # "修好了" about a handled matter; a new problem in the same message keeps it a request
            nxt = _NEW_TROUBLE.search(t)
            if not (self._problem(t) and (r("request.weak", t) or r("wish.strong", t))) and not (
                # "路灯那个弄好了 这次是水沟堵牢了": thanks for one, and a new trouble told
                nxt
                and (
                    self._problem(t[nxt.end() :])
                    or self._fault_told(t[nxt.end() :])
                    or r("request.strong", t[nxt.end() :])
                    or r("request.weak", t[nxt.end() :])
                )
            ):
                # (a wish for a new one, the old one broken: "想要只收音机 老的那只坏掉了 不响了")
                return "feedback", 0.8
        if _ASKS_AROUND.search(t) and not self._problem(t):
            # "有人晓得镇里社保窗口星期六开吗": a question to whoever knows; "谢谢提醒 水缸已经放满了": a notice
            # answered
            return "none", 0.8
        if "心愿" in t and not (is_member and _JOKING.search(t)):
            # a wish written down for a household, even when addressed to everyone ("大家看看谁能帮忙对接")
            return "wish", 0.9
        if r("notice", t) and not self._problem(t, own=True) and not _HELP_ALL.search(t):
            # a reminder or warning to the whole group ("台风要来了 花盆收进来") asks nothing of anyone here
            return "none", 0.85
        if r("request.resolved", t) and r("feedback.earlier", t) and not self._problem_after_resolution(t):
            # the matter the sender reported earlier is over ("上次说的那个水沟现在通了"): feedback on it
            return "feedback", 0.75
        if r("request.resolved", t) and not (r("request.strong", t) or r("request.weak", t)):
            # the trouble is over by the end of the message ("刚才停电了一下 现在好了"); sure enough that the
            # n-gram model is not asked
            return "none", 0.8
        if r("request.admin", t) and not (r("feedback.self_done", t) and not self._problem(t)):
            # an errand the sender has done ("低保材料我已经交到镇里了") asks nothing more
            return "request", 0.85
        if _IF_ONLY.search(t) and _JOKING.search(t):
            # "要是年轻二十岁就好了 哈哈": a joke about what cannot be, no wish to register
            return "none", 0.7
        if r("wish.strong", t) and not _OLD_WISH.search(t) and not (is_member and _JOKING.search(t)):
            # (a member's own new-year wish told laughing — "新年心愿：暴富 暴瘦😂" — is no 微心愿)
            if (self._fault_object is not None and self._fault_object.search(t) and self._problem(t)) or (
                _GET_FIXED.search(t) and self._fault_told(t)
            ):
                # (or someone wished for to fix it: "瓦片松了 昨日落下来一块 … 想请人上去弄弄")
                return "request", 0.8  # "我想要门口那只路灯亮起来 坏了快一个月了": a fault, wished away
            return "wish", 0.85
        if r("request.strong", t) or r("request.borrow", t) or self._problem(t):
            return "request", 0.85
        if self._fault_told(t) and not _JOKING.search(t):
            # (told laughing — "门口的河都结冰了😂" — a sight, not a fault)
            return "request", 0.7
        if r("wish.weak", t):
            return "wish", 0.65
        if r("request.weak", t):
            return "request", 0.65
        acting = _ACTION_TRIGGERS if is_member else _ACTION_TRIGGERS | {"illness"}
        if any(x in acting for x in triggers):
            if r("wellwish", t) or r("recovering", t):
                # a good wish, or an illness told as over ("住院了 现在出院了 屋里都好"): sure enough that the
                # n-gram model is not asked
                return "none", 0.8
            if _JOKING.search(t):
                # "菜咸得要送医院哈哈": a situation told laughing, asking nothing, is no errand
                return "none", 0.7
            if is_member:
                if _HANDLE_IT.search(t):
                    return "request", 0.75  # "…要到镇里去信访，这个事要尽快处理": passed on, and to be acted on
                # a member passing on what befell a household ("听讲蒋立新前两天被汽车撞了"), asking nobody to act:
                # the situation is kept (八必访), no matter is opened
                return "none", 0.7
            return "request", 0.6
        # nothing matched: chat, most likely; a question or a trigger word makes it less sure
        return "none", (0.55 if (triggers or _QUESTION.search(t)) else 0.75)

    def _call_needs(self, t: str, intent: str, triggers: list[str]) -> bool:
        """A member's call with a household at home carries a matter only with a trouble told or a rating asked."""
        if intent == "request":
            return bool(self._problem(t) or self._fault_told(t) or set(triggers) & _ACTION_TRIGGERS)
        if intent == "feedback":
            return bool(
                self._rx("feedback.score", t)
                or self._rx("feedback.satisfied", t)
                or self._rx("feedback.unsatisfied", t)
            )
        return intent != "none"

    def _trouble_or_errand(self, t: str, triggers: list[str]) -> bool:
        # an illness alone is what the visit is for ("住院了，你抽空去医院看一下" stays an instruction)
        trouble = set(triggers) & _ACTION_TRIGGERS
        return bool(self._problem(t) or self._fault_told(t) or trouble or self._rx("request.admin", t))

    def _complaint(self, t: str, triggers: list[str]) -> bool:
        return bool(
            "discontent" in triggers
            or self._rx("feedback.unsatisfied", t)
            or re.search(r"还没(修|弄|办|处理)好|没(修|弄)好|怎么修|白修|(修|弄)的什么", t)
            # a promise to fix it not kept ("讲好叫人来修 到现在没来")
            or re.search(r"(讲好|说好|答应)[^?]{0,10}(到现在|至今|还)[^,.!?]{0,3}(没|不见)", t)
            # "上回修的那个水管又漏了": the handled matter failed
            or re.search(r"(上回|上次|前几天|前两天|之前|那天|刚|才)[^,.!?]{0,3}(修|弄|换|补|通|疏通|清)(好|过)?的", t)
            # "补是补过了 一落雨又漏了", "补的水泥又裂开了": the repair did not hold
            or _REPAIR_FAILED.search(t)
        )

    def _fault_told(self, t: str) -> bool:
        """A fault described without a problem word: an object and its broken state, or a danger it causes."""
        future = self.vocab.get("request.future")
        not_now = self.vocab.get("request.not_now")
        for rx in (self._fault, self.vocab.get("request.hazard")):
            if rx is None:
                continue
            for m in rx.finditer(t):
                cs, ce = clause_bounds(t, m.start())
                if future is not None and future.search(t[cs:ce]):
                    continue
                if not_now is not None and not_now.search(t[cs:ce]):
                    continue
                neg = self.vocab.negator
                if neg is not None and neg.search(t, max(0, m.start() - 3), m.start()):
                    continue
                if _CAUTION.search(m.group(0)):
                    continue  # "空调不要开得太低": advice, not a fault
                if _FIXED_STATE.search(m.group(0)):
                    continue  # "老线头都换掉了": the old part taken out, a repair
                return True
        return False

    def _problem(self, t: str, own: bool = False) -> bool:
        """A problem word (坏了、停水) in a clause that is not about the future ("明天停水" is a notice) and not
        a caution ("别砸到人"). With `own`, only a problem the sender has (我家/我们/俺), for notices."""
        rx = self.vocab.get("request.problem")
        if rx is None:
            return False
        future = self.vocab.get("request.future")
        not_now = self.vocab.get("request.not_now")
        neg = self.vocab.negator
        for m in rx.finditer(t):
            cs, ce = clause_bounds(t, m.start())
            if future is not None and future.search(t[cs:ce]):
                continue
            if not_now is not None and not_now.search(t[cs:ce]):
                continue
            if neg is not None and neg.search(t, max(0, m.start() - 3), m.start()):
                continue
            if _FEAR.search(t, max(cs, m.start() - 4), m.start()):
                continue  # "我怕弄丢了": a worry, not a loss
            if m.start() > 0 and t[m.start() - 1] == "不" and t[m.end() - 1] == "了":
                continue  # "不漏了": no longer
            if _YES_NO.match(t, m.end(), min(len(t), ce + 1)):
                continue  # "今天下午停电吗?": a question about a schedule, not a report
            if own and not re.search(r"我|俺|咱", t):
                continue
            return True
        return False

    def _problem_after_resolution(self, t: str) -> bool:
        """A problem still told after the words that say it is over ("上次吵架那个事 调解过后现在好多了" is over)."""
        res = self.vocab.get("request.resolved")
        m = res.search(t) if res is not None else None
        return self._problem(t[m.end() :] if m else t)

    def _rating(self, t: str, triggers: list[str]) -> str | None:
        m = self._rx("feedback.score", t)
        if m:
            nums = [cn_to_int(g) for g in m.groups() if g]
            nums = [x for x in nums if x is not None]
            n = nums[-1] if nums else None
            if n is not None:
                if n >= 4:
                    return "满意"
                if n == 3:
                    return "基本满意"
                if n >= 1:
                    return "不满意"
        if self._rx("feedback.unsatisfied", t):
            return "不满意"
        if self._rx("feedback.basic", t):
            return "基本满意"
        if self._rx("feedback.satisfied", t):
            return "满意"
        if "discontent" in triggers or self._rx("feedback.not_fixed", t):
            return "不满意"
        return None

    def _triggers(self, t: str) -> list[str]:
        found = []
        neg = self.vocab.negator
        for trig in self.vocab.triggers:
            first = trig.rx.search(t)
            if first is None:  # most messages reveal no situation: skip the exclusions then
                continue
            excl = [(m.start(), m.end()) for m in trig.exclude.finditer(t)] if trig.exclude is not None else []
            # (the first match is not searched for twice; the rest as finditer would give them)
            rest = trig.rx.finditer(t, first.end() + (first.end() == first.start()))
            for m in itertools.chain((first,), rest):
                s, e = m.start(), m.end()
                if any(a <= s and e <= b for a, b in excl):
                    continue
                if neg is not None and neg.search(t, max(0, s - 3), s):
                    continue
                found.append(trig.code)
                break
        return sorted(found)

    def _households(
        self, mentions: list[Mention], is_member: bool, resident: Household | None
    ) -> tuple[list[str], list[tuple[str, ...]]]:
        if not is_member:
            named: set[str] = set()
            ambiguous: list[tuple[str, ...]] = []
            for m in mentions:
                if len(m.candidates) == 1:
                    named.add(m.candidates[0])
                elif len(m.candidates) > 1:
                    ambiguous.append(m.candidates)
            if named:
                return sorted(named), []
            return ([resident.id] if resident else []), ambiguous
        resolved: set[str] = set()
        pending: list[tuple[str, ...]] = []
        for m in mentions:
            if len(m.candidates) == 1:
                resolved.add(m.candidates[0])
            elif len(m.candidates) > 1:
                pending.append(m.candidates)
        ambiguous = []
        for c in pending:
            if not resolved.intersection(c) and c not in ambiguous:
                ambiguous.append(c)
        return sorted(resolved), ambiguous


_CHOICE = re.compile(
    r"^(?:是|就|选|要|我选|应该是)?\s*第?\s*([0-9]{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:个|号|户|家|项|位)?"
    r"\s*(?:吧|啊|呀|的|哦|嘛)?$"
)


def parse_choice(text: str, n: int) -> int | None:
    """A reply picking one of n numbered options: "2", "第二个", "2号", "二" -> 2; None otherwise."""
    t = normalize(text)
    t = CLAUSE_SPLIT.sub("", t)
    m = _CHOICE.match(t)
    if not m:
        return None
    k = cn_to_int(m.group(1))
    if k is None or not 1 <= k <= n:
        return None
    return k
