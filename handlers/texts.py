"""Every sentence a teacher, principal or admin reads, in one place.

Short and kind. Handlers and the scheduler format these; nothing else writes Chinese to users.
Imports nothing of ours.
"""

from __future__ import annotations

BOT_NAME = "教联助手"

# --- check-in / check-out / leave -----------------------------------------------------------
CHECKIN_OK = "{name}签到成功 ✓ {time}{extra}"
CHECKIN_LATE = "（迟到）"
CHECKIN_FOR = "，{activity}"
CHECKIN_AGAIN = "{name}今天已签到过了（{time}），不用重复签到。"
CHECKIN_CLOSED = "{activity}的签到还没开始，请在{opens}后再签到。"
CHECKOUT_OK = "{name}签退成功 ✓ {time}{extra}"
CHECKOUT_EARLY = "（早退）"
CHECKOUT_AGAIN = "{name}今天已签退过了（{time}）。"
CHECKOUT_NO_CHECKIN = "{name}签退成功 ✓ {time}（今天没有签到记录，已照常登记签退）"
LEAVE_OK = "已为{name}登记请假：{when}{what}。"
CHECKIN_MAKEUP = "已为{name}补签 ✓ {when}{extra}"
CHECKIN_FUTURE = "还没到{when}，到时候再签到吧。"
CHECKIN_OVER = "{activity}已经结束了，已为{name}登记补签 ✓ {time}"

# --- reports and plans ----------------------------------------------------------------------
REPORT_OK = "已记录：{summary}。如有误可回复“撤销”。"
PLAN_OK = "已登记计划：{summary}。届时提醒大家签到。"
PLAN_NO_DATE = "已登记计划：{summary}（日期待定）。"
ASK_ACTIVITY = "收到！请问这是哪类活动？例如：集体备课、听评课、送教下乡、教研活动。"
ASK_AGAIN = "没看出是哪类活动，请直接回复活动名称，例如“集体备课”；回复“取消”则不记录。"
FOLLOWUP_CANCELLED = "好的，这条不记录了。"
SUMMARY_PEOPLE = "{n}人"
DATE_UNKNOWN = "日期待定"
ASK_DATE = "这个日期好像不存在，请问活动是哪一天？例如“11月30日”或“昨天”。"
ASK_DATE_AGAIN = "还是没看出日期，请直接回复日期，例如“11月30日”；回复“取消”则不记录。"
FOLLOWUP_EXPIRED = "刚才的问题已经过期了，请把要登记的内容完整地再发一次。"
MANY_OK = "已记录 {n} 项：{items}。如有误可回复“撤销”。"
MANY_ITEM_SEP = "；"
ITEM_JOINED = "{summary}（已合并到{name}登记的记录）"
ITEM_PLAN_HELD = "{summary}（计划内活动，已标记为已开展）"
REPORT_PLAN_HELD = "已记录：{summary}，计划内活动已标记为已开展。如有误可回复“撤销”。"
REPORT_JOINED = "已合并到{name}登记的 {what}，不重复计数。{differ}"
REPORT_SAME = "这次活动你已经登记过了（{what}），不重复计数。"
JOIN_DIFFER = "{slots}，如需更正请回复“不对，是{example}”。"
JOIN_DIFFER_SLOT = "{slot}按{name}登记的{value}"
SOMEONE = "先前"
SLOT_NAMES = {"participants": "人数", "subject": "学科", "grade": "年级", "topic": "主题",
              "time": "时间"}
PLAN_EXISTS = "这个计划已经登记过了：{summary}。"
YEAR_DATE = "{year}年{month}月{day}日"

# --- corrections, cancellations, moves -------------------------------------------------------
CORRECT_OK = "已更正：{summary}。"
CORRECT_NOTHING = ("没有找到你24小时内在这里登记的记录，无法更正。"
                   "如需登记新的活动，请直接发送完整内容。")
CORRECT_SAME = "记录已经是这样了：{summary}。"
OUTCOME_NOTHING = ("现在没有等待你确认的计划。要取消某次活动，请说明是哪一天的哪项活动，"
                   "例如“下周三的集备取消了”。")
CORRECT_WHAT = "请告诉我要更正的内容，例如“不对，是11人”或“更正：日期是昨天”。"
CANCEL_OK = "已取消：{summary}。相关提醒和签到已一并取消。"
CANCEL_NOT_FOUND = "没有找到{what}的计划，无法取消。"
RESCHEDULE_OK = "已改期：{summary}（原定{old}）。提醒会按新时间发送。"
RESCHEDULE_NOT_FOUND = "没有找到{what}的计划，无法改期。"
RESCHEDULE_NO_DAY = "日期待定"
PLAN_ACTION_NOT_ALLOWED = "只有发布计划的老师、本教共体的校长或管理员可以{action}这个计划。"
PLAN_ACTIONS = {"cancel": "取消", "reschedule": "调整"}
PICK_PLAN = "找到 {n} 个计划：{items}。请回复序号，例如“1”。"
PICK_PLAN_ITEM = "{n}. {summary}"
PICK_PLAN_AGAIN = "请回复序号（1—{n}）；回复“取消”则不做改动。"
PLAN_WHAT = "{date}{activity}"
OUTCOME_HELD = "好的，{summary} 已记为已开展。"
OUTCOME_CANCELLED = "好的，{summary} 已记为取消。"

# --- undo -----------------------------------------------------------------------------------
UNDO_OK = "已撤销：{what}。"
UNDO_NOTHING = "没有可以撤销的记录。"
UNDO_NOT_YOURS = "只能撤销自己登记的记录。"
UNDO_ALREADY = "这条记录已经撤销过了。"
UNDO_WHAT_ACTIVITY = "{date}的{activity}记录"
UNDO_WHAT_ATTENDANCE = "{date}的{type}记录"
UNDO_TOO_OLD = "只能撤销自己24小时内登记的记录。更早的记录如需撤销，请联系本校校长或管理员。"
UNDO_OTHER_OK = "已撤销{name}登记的{what}。"
UNDO_OTHER_NOT_ALLOWED = "只有本人学校的校长、牵头学校的校长或管理员可以撤销别人登记的记录。"
UNDO_OTHER_NOT_FOUND = "没有找到{name}登记的{what}。"
UNDO_OTHER_REASON = "{name}在聊天中撤销"
ATTENDANCE_TYPES = {"checkin": "签到", "checkout": "签退", "leave": "请假"}

# --- queries --------------------------------------------------------------------------------
QUERY_COUNT = "{scope} {period}{activity} {count} 次"
QUERY_QUOTA = "{scope} {period}{activity} {count}/{need} 次{status}"
QUOTA_MET = "，已完成 ✓"
QUOTA_SHORT = "，还差 {left} 次"
QUERY_ATTENDANCE = "{scope} {period}签到 {count} 次"
QUERY_ALL = "{scope} {period}共记录活动 {count} 次{detail}"
QUERY_NOTHING = "{scope} {period}还没有活动记录。"
PERIODS = {
    "today": "今天",
    "this_week": "本周",
    "last_week": "上周",
    "this_month": "本月",
    "last_month": "上月",
    "this_quarter": "本季度",
    "last_quarter": "上季度",
    "this_semester": "本学期",
    "last_semester": "上学期",
    "this_year": "今年",
}

# --- bind -----------------------------------------------------------------------------------
BIND_OK = "绑定成功！你好，{school}的{name}老师。"
BIND_ALREADY = "你已绑定为{school}的{name}，无需重复绑定。"
BIND_ALREADY_NO_SCHOOL = "你已绑定为{name}，无需重复绑定。"
BIND_NOT_FOUND = "名册里没有找到{school}的{name}。请联系学校管理员把你加入名册后再绑定。"
BIND_NEED_NAME = "请告诉我你的学校和姓名，例如：“我是泗顶镇中心小学的张丽”。"
WHO_ARE_YOU = "你好！我还不认识你，请先发送“我是××学校的×××”完成绑定。"
# A claim the bot may not accept by itself (handlers/bind.py): it waits for an admin.
# {who}: PERSON_AT_SCHOOL, or the name alone for someone without a school (an admin).
PERSON_AT_SCHOOL = "{school}的{name}"
BIND_WAITS = "已收到。绑定为{who}需要管理员确认，确认后我会告诉你。"
BIND_STILL_WAITING = "你的绑定申请（{name}）正在等待管理员确认。"
BIND_TRY_TOMORROW = "今天已经处理过你的绑定申请了；如有疑问请联系学校管理员。"
# To the school's principal, privately, when a teacher's claim was accepted.
BIND_NOTICE = "{name} 已绑定 {platform}账号 {account}；如非本人请回复“解除”"
PLATFORM_NAMES = {"feishu": "飞书", "wecom": "企业微信", "console": "控制台"}
CLAIM_WHY = {
    "privileged": "校长或管理员的名册条目",
    "taken": "该名册条目已绑定了其他账号",
    "ambiguous": "名册里有不止一人符合",
}
CLAIM_FOR_ADMIN = ("绑定申请 #{id}：{platform}账号 {account} 自称{who}（{why}）。"
                   "回复“批准 {id}”或“驳回 {id}”。")
CLAIM_APPROVED = "已批准绑定申请 #{id}：{who}。"
CLAIM_APPROVED_NOTICE = "管理员已确认，你好，{who}。"
CLAIM_REJECTED = "已驳回绑定申请 #{id}。"
CLAIM_REJECTED_NOTICE = "你的绑定申请没有通过，如有疑问请联系学校管理员。"
CLAIM_UNKNOWN = "没有待处理的绑定申请 #{id}。"
CLAIM_ADMIN_ONLY = "只有管理员可以处理绑定申请。"
CLAIM_PICK_MEMBER = ("申请 #{id} 符合的不止一人，"
                     "请在服务器上用 jiaolian member approve {id} --member 编号 处理。")
CLAIM_ACCOUNT_TAKEN = "申请 #{id} 的账号已绑定了别人，无法批准。"
PRIVATE_ONLY = "请私聊我发送这条命令。"
UNLINK_OK = "已解除 {name} 与{platform}账号 {account} 的绑定。"
UNLINK_NONE = "没有可以解除的绑定。"
UNLINKED_NOTICE = "你的账号与{name}的绑定已被解除；如有疑问请联系学校管理员。"

# --- group binding (admins) -----------------------------------------------------------------
GROUP_WELCOME = (
    "大家好，我是教联助手 👋 可以帮大家签到、登记教研活动、查询完成情况。\n"
    "请管理员在群里发送“绑定本群 教共体名称”，把本群绑定到教共体。"
)
GROUP_BIND_OK = "本群已绑定到{scope}。"
GROUP_BIND_ADMIN_ONLY = "只有管理员或该教共体牵头学校的校长可以绑定本群。"
GROUP_BIND_IN_GROUP = "“绑定本群”要在被绑定的群里 @我 发送。"
GROUP_BIND_UNKNOWN = "没有找到“{scope}”，请发送完整的教共体或学校名称。"
GROUP_NOT_BOUND = "本群还没有绑定教共体，请管理员发送“绑定本群 教共体名称”。"

# --- photos (pictures teachers post as evidence) ---------------------------------------------
PHOTOS_ATTACHED = "已附照片 {n} 张"
PHOTOS_ATTACHED_TAIL = "已附照片 {n} 张。"
PHOTOS_REFUSED = "图片没能保存（只收照片，单张不超过{mb}MB），请换一张再发。"
PHOTOS_NOTHING_TO_ATTACH = ("照片要跟在你的汇报或签到后面发（30分钟内），"
                            "先发汇报，再发照片就能附上。")
PHOTOS_NOT_KEPT = "照片这次没有附上：请等记录完成后再发一次照片。"

# --- help and unknown -----------------------------------------------------------------------
HELP = (
    "我是教联助手，可以这样用：\n"
    "· 签到 / 签退：发送“签到”“签退”\n"
    "· 汇报：“昨天下午在泗顶中心校开展了三年级数学集体备课，12人参加”\n"
    "· 计划：“下周三下午两点在桥板小学开展英语集体备课”\n"
    "· 请假：“明天的培训我请假”\n"
    "· 查询：“本月集体备课开展几次了？”\n"
    "· 撤销：发送“撤销”撤回自己上一条记录"
)
PRIVATE_HINT = "没太明白 😊 发送“帮助”看看我能做什么。"
GROUP_HINT = "没太明白 😊 @我 发送“帮助”看看我能做什么。"
SMALL_TALK_REPLY = "😊 有需要随时找我，发送“帮助”可以查看用法。"
# A file, video, place or link on its own (no words): only photos go to a record.
NOT_KEPT_HINT = ("这类消息我还不能保存 😊 照片可以附到你30分钟内的汇报或签到上；"
                 "要登记活动，请直接发文字。")
# To every admin, privately, once per webhook: a WeCom group robot (消息推送) was removed.
WECOM_HOOK_REMOVED = ("「{group}」群里的消息推送机器人（原群机器人）已被移出群聊，"
                      "提醒和周报发不进这个群了。"
                      "请在群里重新添加一个，并把新的 webhook key 填进配置。")
ERROR = "抱歉，刚才没处理好，请稍后再试一次。"

# --- Feishu cards ---------------------------------------------------------------------------
CARD_UNDO_BUTTON = "撤销"
CARD_UNDO_TOAST = "正在撤销…"

# --- scheduler: reminders, summaries and digests (scheduler/) ---------------------------------
SCHED_PERIODS = {"month": "本月", "quarter": "本季度", "semester": "本学期", "year": "本学年"}
SCHED_PERIOD_SEP = "、"
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容",
                     "令狐", "长孙", "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫")
SCHED_START_HEAD = "{period}开始啦，{community}需完成："
SCHED_START_LINE = "· {activity} 至少 {need} 次{each}"
SCHED_START_COVER = "· {activity} 覆盖全部学科{each}"
SCHED_EACH_SCHOOL = "（每所成员校）"
SCHED_START_TAIL = "活动结束后在群里说一句即可登记，例如“今天下午开展了数学集体备课，10人参加”。"
SCHED_SHORT_HEAD = "温馨提醒 ⏰ {period}还剩 {days} 个工作日："
SCHED_SHORT_LINE = "· {period}{activity}{where}已完成 {done} 次，还差 {left} 次，截止 {deadline}"
SCHED_SHORT_COVER = ("· {period}{activity}{where}还未覆盖：{missing}"
                     "（已覆盖 {done}/{need} 科），截止 {deadline}")
SCHED_SHORT_TAIL = "完成后在群里汇报一下就好。"
SCHED_WHERE = "（{school}）"
SCHED_PRINCIPAL_HEAD = ("{name}校长您好，{community}{period}还有几项任务未完成，"
                        "距截止还剩 {days} 个工作日：")
SCHED_PRINCIPAL_TAIL = "请您关注一下，辛苦了。"
SCHED_TOMORROW = "明天（{date}）"
SCHED_ON_DAY = "{date}（{weekday}）"
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
SCHED_DAY_BEFORE = "📅 活动预告：{when}{what}。{checkin}"
SCHED_HOUR_BEFORE = "⏰ {time} 开始：{what}。{checkin}"
SCHED_CHECKIN_OPENS = "签到 {opens} 开放，到场后发送“签到”即可；不能参加请发“请假”。"
SCHED_SUMMARY = ("📋 {date} {what}已结束：签到 {checked} 人，迟到 {late} 人，早退 {early} 人，"
                 "请假 {leave} 人，未签到 {missing} 人。")
SCHED_SUMMARY_ALL_IN = "应到人员都已签到 👍"
SCHED_SUMMARY_NAMES = "📋 {date} {what}签到名单（仅您可见）：{names}"
SCHED_SUMMARY_MISSING = "未签到：{names}。"
SCHED_SUMMARY_LATE = "迟到：{names}。"
SCHED_SUMMARY_EARLY = "早退：{names}。"
SCHED_NAMES_MORE = "{names} 等 {n} 人"
SCHED_NAME_SEP = "、"
SCHED_CALENDAR_UNKNOWN = (
    "提醒管理员：日历库还没有 {year} 年的法定节假日和调休安排，"
    "暂按周一至周五为工作日发送提醒。请升级 chinesecalendar 或在配置中填写假期。"
)
SCHED_TERMS_GUESSED = (
    "提醒管理员：配置的学期日期只到 {last}，之后暂按 {autumn}、{spring}估算。"
    "请在 [scheduler] 中填写 semesters。"
)
DIGEST_TITLE_SCHOOL = "📊 周报 · {school}（{start}—{end}）"
DIGEST_TITLE_COMMUNITY = "📊 教共体周报 · {community}（{start}—{end}）"
DIGEST_TITLE_COUNTY = "📊 全县教共体周报（{start}—{end}）"
DIGEST_WEEK = "本周活动 {total} 次：{detail}"
DIGEST_WEEK_NONE = "本周活动：暂无记录"
DIGEST_PROGRESS = "{period}：{items}"
DIGEST_ITEM = "{activity}{where} {done}/{need}{mark}"
DIGEST_COVER_ITEM = "{activity}{where} 学科 {done}/{need}{mark}"
DIGEST_MET = " ✓"
DIGEST_ITEM_SEP = " · "
DIGEST_TURNOUT = "计划活动 {events} 场：签到 {checkins} 人次，迟到 {late}，请假 {leaves}"
DIGEST_IDLE = "本月还没有记录的老师：{names}（可私下关心一下）"
DIGEST_NEXT = "下周计划：{items}"
DIGEST_NEXT_NONE = "下周计划：暂无"
DIGEST_SCHOOLS = "各校本周活动：{items}"
DIGEST_SCHOOL_ITEM = "{school} {n} 次"
DIGEST_RANK_HEAD = "按本月和本学期任务完成度排序："
DIGEST_RANK_LINE = "{rank}. {community} 达标 {met}/{total} · 本周活动 {week} 次"
DIGEST_RANK_GAP = "……（中间 {n} 个略）"

# --- the console chat (the local demo) ------------------------------------------------------
CONSOLE_WELCOME = "教联助手 控制台。输入消息聊天，/help 查看命令，/quit 退出。"
CONSOLE_COMMANDS = "命令：/as 姓名  /group 群名  /private  /time 2026-11-26 10:00  /quit"
CONSOLE_NO_MEMBER = "名册里没有 {name}"
CONSOLE_NO_GROUP = "没有这个群：{name}"
CONSOLE_TIME_FORMAT = "时间格式：/time 2026-11-26 10:00"
CONSOLE_PRIVATE = "私聊"
CONSOLE_GROUP = "群"
CONSOLE_FILE_SENT = "📎 已发送文件：{name}（{path}）"
CONSOLE_IMAGE_SENT = "🖼 已发送图片：{name}（{path}）"

# --- scheduler: plan outcomes (the organiser's 已开展 / 取消 question) ------------------------
SCHED_OUTCOME_ASK = "{when} {what} 开展了吗？请回复“已开展”或“取消”。"
# When the organiser cannot be reached privately, the plan's group is asked instead.
SCHED_OUTCOME_ASK_IN_GROUP = "{name}：{question}"

# --- records: the 台账 table of `jiaolian records` -------------------------------------------
RECORDS_HEADER = (
    "编号", "日期", "时间", "类别", "活动", "状态", "学校", "教共体", "人员", "详情", "原文",
)
RECORDS_EVENT = "活动"
RECORDS_STATUS = {"planned": "计划", "held": "已开展", "done": "已开展", "cancelled": "已取消"}
RECORDS_LATE = "迟到"
RECORDS_EARLY = "早退"
RECORDS_MAKEUP = "补签"
RECORDS_WITHDRAWN = "已撤销"
RECORDS_PEOPLE = "{n}人"
RECORDS_PHOTOS = "照片{n}张"
RECORDS_SEP = "、"

# --- questions addressed to the bot (handlers/schedule.py) --------------------------------
SCHEDULE_DAY = "{word}（{date}）"
SCHEDULE_THIS_WEEK = "本周"
SCHEDULE_NEXT_WEEK = "下周"
SCHEDULE_SOON = "近两周"
SCHEDULE_ANY = "活动"
SCHEDULE_HEAD = "{when}的{what}安排："
SCHEDULE_LINE = "· {summary}"
SCHEDULE_NONE = "{when}还没有登记的{what}安排。"
DIGEST_NOT_YOURS = ("周报每周一 8:00 自动发给校长和管理员；"
                    "想看数字可以直接问我，例如“本月集体备课开展几次了？”")
SENT_PRIVATELY = "已私信发给你了。"
REMINDERS_ARE_AUTOMATIC = ("活动前一天和开始前一小时我会自动在群里提醒；"
                           "登记计划时说清日期和时间就好。")

# --- queries by scope (answers issue) ---------------------------------------------------------
QUOTA_DONE = "，已达标 ✓"  # a finished period that was met
QUOTA_NOT_DONE = "，未达标"  # a finished period that was not: never "还差"
MONTH = "{month}月"
QUERY_ACTIVITIES = "{first}（含{rest}）"  # a rule that counts several activities
QUERY_NAME_SEP = "、"
QUERY_ITEM_SEP = "；"
QUERY_COUNT_SHORT = "{scope} {count} 次"  # a line of a county list, headed once
QUERY_QUOTA_SHORT = "{scope} {count}/{need} 次{status}"
QUERY_SCHOOL_IN_COMMUNITY = "{school} {period}{activity} {count} 次（教共体 {done}/{need}{mark}）"
QUERY_MARK_MET = " ✓"
QUERY_MARK_NOT_DONE = "，未达标"
QUERY_MARK_SHORT = "，还差 {left} 次"
QUERY_EACH_SCHOOL = "{scope} {period}{activity}（每所成员校至少 {need} 次）："
QUERY_EACH_SCHOOL_PLAIN = "{scope} {period}{activity}（按每所成员校计）："
QUERY_SCHOOL_LINE = "· {school} {count} 次"
QUERY_SCHOOL_QUOTA_LINE = "· {school} {count}/{need} 次{status}"
QUERY_COMMUNITY_LINE = "· {line}"
QUERY_COUNTY = "全县"
# Which reading of "a school behind" a list uses (spec/conversation.md).
READING_COMMUNITY = "（按教共体计：既没承办、也没有本校老师登记的学校算没开展）"
READING_MEMBER = "（按每所成员校各自的次数计）"
QUERY_BEHIND = "{period}还没{activity}的学校：{names}{reading}"
QUERY_BEHIND_NONE = "{period}各校都开展了{activity} ✓{reading}"
QUERY_BEHIND_MEMBER = "{period}{activity}未达标的学校：{names}{reading}"
QUERY_BEHIND_MEMBER_NONE = "{period}{activity}各成员校都已达标 ✓{reading}"
QUERY_BEHIND_COMMUNITY = "{community}：{names}"
QUERY_BEHIND_COMMUNITY_NONE = "{community}：都已开展 ✓"
QUERY_OWN_ONLY = "只能查看本教共体的数据，以下是{community}的："
QUERY_PERSON_ACTIVITY = "{name} {period}参加{activity} {count} 次"
QUERY_PERSON_ATTENDANCE = "{name} {period}签到 {count} 次"
QUERY_PERSON_ALL = "{name} {period}参加活动 {count} 次{detail}，签到 {checkins} 次"
QUERY_PERSON_UNKNOWN = "名册里没有找到{name}老师。"
QUERY_DETAIL = "：{items}"
QUERY_DETAIL_ITEM = "{activity} {count} 次"
SHEET = ("📋 {date} {what}签到：已签到 {signed} 人（迟到 {late}），"
         "早退 {early}，请假 {leave}，未签到 {missing}。")
SHEET_LATE = "迟到：{names}。"
SHEET_MISSING = "未签到：{names}。"
SHEET_NAMES_PRIVATE = "名单请私聊我查看。"
SHEET_NONE = "{date}{community}没有计划的活动，没有签到表。"
SHEET_NAMES_MORE = "{names} 等 {n} 人"
QUERY_IDLE_COUNT = "{scope} {period}还没{what}的老师 {n} 人"
QUERY_IDLE_NAMES = "名单：{names}"
QUERY_SIGNED_IN = "签到过"
QUERY_TOOK_PART = "参加{activity}"
QUERY_ANY_ENTRY = "登记过活动"

# --- digests and period ends (answers issue) --------------------------------------------------
DIGEST_OWN = "本校{period}：{items}"  # the school's own figures
DIGEST_COMMUNITY = "教共体{period}：{items}"  # the community's figures, a line of their own
DIGEST_COMMUNITY_SCORE = "{community}：{total} 项指标 达标 {met} 项"
DIGEST_OWN_WEEK = "本校本周活动 {total} 次：{detail}"
DIGEST_OWN_WEEK_NONE = "本校本周活动：暂无记录"
DIGEST_TAKING_PART = "{activity} {n} 次"  # a community-wide rule: events the school took part in
DIGEST_COUNT = "{activity} {done}/{need}{status}"
DIGEST_SHORT = "，还差 {left} 次"  # a period still running
DIGEST_DONE = " 已达标 ✓"  # a finished period that was met
DIGEST_NOT_DONE = " 未达标"  # a finished period that was not: never "还差"
DIGEST_COVERED = "{activity} 各学科都已覆盖 ✓"
DIGEST_UNCOVERED = "{activity} 还缺 {n} 科：{missing}"
DIGEST_UNCOVERED_DONE = "{activity} 未覆盖 {n} 科：{missing}，未达标"
DIGEST_EACH_SCHOOL = "{period}{activity}（每所成员校）：{items}"
DIGEST_SCHOOL_FIGURE = "{school} {figure}"
DIGEST_IDLE_DONE = "{month}月没有任何记录的老师：{names}（可私下关心一下）"
DIGEST_RANK = "{rank}. {community} {total} 项指标 达标 {met} 项 · 本周活动 {week} 次"
PERIOD_MONTH_DONE = "{month}月"
PERIOD_QUARTER_DONE = "第{quarter}季度"
PERIOD_TERM_DONE = "{term}学期"
RESULT_HEAD = "📋 {month}月任务结果 · {community}"
RESULT_LINE = "· {activity} {done}/{need} 次{status}（{schools}）"
RESULT_MEMBER_LINE = "· {activity}（{school}）{done}/{need} 次{status}"
RESULT_SCHOOL = "{school} {n} 次"
RESULT_SEP = "、"
TERM_TITLE = "📘 {term}总结 · {community}"
TERM_TITLE_COUNTY = "📘 {term}总结 · 全县"
TERM_COMMUNITY = "{community}："
PREVIEW_NOTHING = "不会发送任何周报：{why}"
PREVIEW_VACATION = "{week} 整周都在假期里（{start}—{end}），假期不发周报。"
PREVIEW_NOBODY = "没有任何校长或管理员绑定了账号，周报没有人可以收。"
PREVIEW_UNLINKED = "提示：{names} 还没有绑定账号，收不到周报。"
PREVIEW_NO_GROUP = "提示：{communities} 还没有绑定群，月度结果不会发到群里。"
PREVIEW_SENT_ON = "这些周报将在 {date} {time} 发送。"
# 导出本月台账 / 发一下考核表 (handlers.exports)
EXPORT_LEDGER = "活动台账"
EXPORT_ASSESSMENT = "考核表"
EXPORT_HERE = "这是{label}的{what}，请查收：{name}"
EXPORT_SENT_PRIVATELY = "{what}已私信发给你。"
EXPORT_NOT_YOURS = "台账和考核表只发给校长和教育局管理员；需要的话请找本校校长。"
EXPORT_UNAVAILABLE = "这里暂时发不了文件，请管理员在服务器上用 jiaolian export 导出。"

# --- charts (handlers/chart.py): the picture that goes with a digest ----------------------
CHART_TITLE = "{community} 各校每月活动 {range}"
CHART_SUBTITLE = "{activity}：每校参与的次数；教共体每月至少 {need} 次"
CHART_MONTH = "{month}月"
CHART_YEAR_MONTH = "{year}年{month}月"
CHART_RANGE_SEP = "—"
CHART_Y_LABEL = "{activity}（次）"
CHART_X_LABEL = "月份"
CHART_QUOTA = "月度要求：教共体 ≥{need} 次"
CHART_TOTAL = "教共体合计 {n}"
CHART_TOTAL_SHORT = "合计\n{n}"

# --- ledger export (handlers/ledger): the bundled assessment line ---------------------------
ASSESSMENT_BUNDLED = "{community} 捆绑考核：教共体达标 {met}/{total} 项{weakest}"
ASSESSMENT_WEAKEST = "；最弱成员校 {school} 达标 {met}/{total} 项"

# --- operations (scheduler/undelivered.py): the admin's daily note on given-up messages ----
UNDELIVERED_NOTE = ("【运行提醒】{day}有 {count} 条消息多次发送失败，已放弃发送：\n{lines}\n"
                    "请检查群机器人、应用权限或网络；服务器日志里有详细原因。")
UNDELIVERED_LINE = "· 发给{to}：“{text}”（{error}）"
UNDELIVERED_MORE = "……另有 {n} 条"

# --- pages (handlers/pages.py): the one-time link from 看板 -------------------------------
PAGE_LINK = "教共体看板（{minutes}分钟内有效，只能打开一次，请勿转发）：\n{url}"
PAGE_SENT_PRIVATELY = "看板链接已私信发给你。"
PAGE_UNAVAILABLE = ("这个教联助手没有配置对外网址，暂时没有网页看板；可以直接问我数字，"
                    "如“本月集体备课开展了几次”。")
