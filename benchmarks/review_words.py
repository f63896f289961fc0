"""Word lists for benchmarks/review_corpus.py: headlines, ledes and outlet names in English,
Korean, Chinese and Japanese, on the three labels' topics and on other news.

Data, not code: each language is a dict of pools, read once into a `Language`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# -- our own word lists, filled at random by review_corpus.fill ------------------------------
# Each pool is "a|b|c"; {slot} names another pool (slots nest once); n and nth are shared.

Pools = dict[str, tuple[str, ...]]
Topic = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # titles, ledes, why-terms


@dataclass(frozen=True)
class Language:
    pools: Pools
    titles: tuple[str, ...]
    ledes: tuple[str, ...]
    topics: dict[str, Topic]
    rewrites: tuple[str, ...]  # how another outlet retitles a story: "{title}" in a frame
    outlets: tuple[tuple[str, ...], tuple[str, ...]]  # outlet names: first part x second part


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


def language(spec: dict[str, Any]) -> Language:
    pools = {"n": tuple(map(str, range(2, 40))), "nth": words("second|third|fourth|fifth")}
    pools |= {name: words(text) for name, text in spec["pools"].items()}
    return Language(
        pools=pools,
        titles=words(spec["titles"]),
        ledes=words(spec["ledes"]),
        topics={label: tuple(map(words, parts)) for label, parts in spec["topics"].items()},  # type: ignore[misc]
        rewrites=words(spec["rewrites"]),
        outlets=(words(spec["outlets"][0]), words(spec["outlets"][1])),
    )


EN = language({
    "pools": {
        "subject": "Central bank|Trade ministry|Weather agency|Rail operator|City council|"
        "Port authority|Chipmaker|Football federation|Farmers' cooperative|Health ministry|"
        "Power utility|Shipbuilder|Film festival|Tax office|National airline|Teachers' union",
        "action": "raises rates for the {nth} time this year|delays new rail link|"
        "reports {n}% rise in exports|unveils winter fuel subsidy|cuts coastal fishing quotas|"
        "opens {n} new clinics|warns of a poor rice harvest|approves budget for road repairs|"
        "suspends ticket sales|plans a bond sale|names new chief executive|"
        "expands vaccination drive|reviews safety rules after fire|"
        "signs supply deal with {place} partners",
        "place": "Seoul|Busan|Tokyo|Osaka|Beijing|Shanghai|Dalian|Taipei|Vladivostok|Bangkok|"
        "Hanoi|Manila|Jakarta|Ulaanbaatar",
        "weekday": "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday",
        "org": "officials said|state media reported|a spokesperson said|a statement said|"
        "people familiar with the matter said",
        "context": "The decision follows months of talks with local businesses.|"
        "Officials said the plan would cost about {n} million dollars.|"
        "Heavy rain in {place} last week added to the pressure.|"
        "Critics said the measure came too late and did too little.|"
        "A vote is expected before the end of the month.|"
        "Shares in the sector rose {n}% on the news.|It is the {nth} such announcement this year.|"
        "Residents in {place} said they had not been consulted.",
        "nkplace": "Hyesan|Musan|Hoeryong|Sinuiju|Chongjin|Onsong",
        "cnplace": "Dandong|Yanji|Shenyang|Tumen|Changbai|Hunchun",
        "safe": "Seoul|Bangkok|Ulaanbaatar|Incheon",
        "route": "Laos and Thailand|Mongolia|a third country|Vietnam",
        "river": "Tumen River|Yalu River",
    },
    "titles": "{subject} {action}|{place}: {subject} {action}|{subject} in {place} {action}|"
    "{subject} {action} as talks drag on",
    "ledes": "{subject} {action} on {weekday}, {org}. {context}|"
    "{subject} in {place} {action}, {org}. {context}",
    "topics": {
        "defectors": (
            "{n} North Korean defectors reach {safe} after months in hiding|"
            "Defector who fled {nkplace} describes hunger and fear|"
            "North Korean escapees arrive in {safe} via {route}|"
            "Former soldier defects across the demarcation line",
            "{n} North Koreans who fled {nkplace} arrived in {safe} this week, {org}. They "
            "travelled through {route} and spent months in hiding.|The defector, who fled "
            "{nkplace} last year, told reporters about food shortages and surveillance.",
            "defectors|defector|escapees|fled|defects",
        ),
        "repatriation": (
            "China sends {n} North Korean escapees back from {cnplace}|"
            "Rights groups fear forced repatriation of detainees in {cnplace}|"
            "UN rapporteur urges Beijing to halt repatriations|"
            "Families fear {n} women held in {cnplace} will be repatriated",
            "Chinese police detained {n} North Koreans in {cnplace} and sent them back across "
            "the border, {org}. Those returned face prison camps.|"
            "Activists said the detainees in {cnplace} could be repatriated within days.",
            "repatriation|repatriated|repatriations|sent them back",
        ),
        "border": (
            "North Korea extends border fence along the {river}|"
            "Guards on the {river} ordered to shoot at crossers|"
            "Smugglers report tighter checks at {cnplace} crossing|"
            "Satellite images show new guard posts near {nkplace}",
            "New fences and guard posts have appeared along the {river} near {nkplace}, "
            "according to satellite images. Smuggling across the border has almost stopped.|"
            "Border guards near {nkplace} have been told to shoot anyone crossing without "
            "permission, {org}.",
            "border|guard posts|border guards|fence|Tumen|Yalu",
        ),
    },
    "rewrites": "{title}|UPDATE: {title}|{title} - report|Analysis: {title}",
    "outlets": (
        "Harbor|Capital|Northern|Pacific|Morning|Evening|Global|Coastal|Valley|Metro",
        "Times|Herald|Post|Courier|Ledger|Tribune|Observer|Gazette|Review|Chronicle",
    ),
})  # fmt: skip

KO = language({
    "pools": {
        "subject": "기획재정부|한국은행|기상청|서울시|국토교통부|부산항만공사|교육부|"
        "프로축구연맹|산업통상자원부|보건복지부|한국전력",
        "obj": "내년 예산안|신규 철도 노선|수출 실적|난방비 지원책|청년 일자리 대책|기준금리|"
        "주말 한파 예보|전기요금 조정안|의료 인력 확충 방안",
        "verb": "발표|공개|확정|검토|추진|연기",
        "said": "발표했다고|공개했다고|확정했다고|검토하고 있다고|보완하기로 했다고",
        "day": "월요일|화요일|수요일|목요일|금요일|지난주|이날",
        "place": "서울|부산|인천|대구|광주|대전|울산|제주",
        "context": "업계는 이번 조치가 {place} 경기에 영향을 줄 것으로 보고 있다.|"
        "전문가들은 추가 대책이 필요하다고 지적했다.|"
        "관련 법안은 이달 중 국회에서 논의될 예정이다.|시민들은 대체로 환영하는 분위기다.|"
        "지난해에도 비슷한 조치가 {n}차례 시행된 바 있다.",
        "nkplace": "혜산|무산|회령|신의주|청진|온성",
        "cnplace": "단둥|옌지|선양|투먼|창바이|훈춘",
        "route": "라오스와 태국|몽골|제3국|베트남",
        "river": "두만강|압록강",
    },
    "titles": "{subject}, {obj} {verb}|{subject}, {place} {obj} {verb}",
    "ledes": "{subject} 관계자는 {day} {obj} 관련 계획을 {said} 밝혔다. {context}",
    "topics": {
        "defectors": (
            "탈북민 {n}명, 제3국 거쳐 입국|{nkplace} 출신 탈북자 \"굶주림 피해 탈출\"|"
            "올해 탈북민 입국 {n}명…지난해보다 줄어|북한군 병사 군사분계선 넘어 귀순",
            "통일부에 따르면 탈북민 {n}명이 {route} 경유로 최근 입국했다. 이들은 "
            "{cnplace}에서 수개월간 숨어 지낸 것으로 알려졌다.|"
            "{nkplace}에서 탈출한 탈북자는 기자들에게 식량난과 감시 실태를 증언했다.",
            "탈북민|탈북자|탈출|귀순",
        ),
        "repatriation": (
            "중국, 탈북민 {n}명 강제북송|인권단체 \"{cnplace} 구금 탈북자 북송 우려\"|"
            "유엔 특별보고관, 중국에 강제북송 중단 촉구",
            "{cnplace}에 구금돼 있던 탈북민 {n}명이 북한으로 강제북송됐다고 인권단체가 "
            "밝혔다. 송환된 이들은 수용소에 보내질 가능성이 크다.|"
            "정부는 중국 측에 탈북자 강제북송 중단을 요청했다고 밝혔다.",
            "강제북송|북송|송환",
        ),
        "border": (
            "북한, 두만강 국경 철조망 보강|압록강 국경 경비 강화…밀수 단속 확대|"
            "위성사진에 {nkplace} 인근 새 초소 포착",
            "북한이 {river} 일대 국경 경비를 강화하고 있다고 대북 소식통이 전했다. "
            "국경경비대는 야간 순찰을 늘렸다.|"
            "{nkplace} 인근 국경에 새 초소와 철조망이 설치된 것이 위성사진으로 확인됐다.",
            "국경|두만강|압록강|국경경비대|초소",
        ),
    },
    "rewrites": "{title}|(종합) {title}|[속보] {title}|{title}(종합2보)",
    "outlets": ("한빛|새벽|누리|동해|서해|한강|아침|중앙|남도|북악", "일보|신문|뉴스|방송|경제"),
})  # fmt: skip

ZH = language({
    "pools": {
        "subject": "国家统计局|商务部|中国人民银行|气象局|上海市政府|铁路部门|教育部|"
        "海关总署|工信部|深圳市",
        "obj": "十月居民消费价格数据|新能源汽车销量|粮食产量|出口数据|冬季供暖方案|"
        "新的高铁线路|房地产调控措施|就业扶持政策",
        "verb": "发布|公布|推出|调整|研究",
        "day": "周一|周二|周三|周四|周五|昨日|今日",
        "place": "北京|上海|广州|深圳|天津|重庆|大连|沈阳",
        "context": "业内人士认为，此举将对{place}经济产生影响。|"
        "专家表示，后续仍需出台配套措施。|相关方案预计将于下月实施。|市民对此反应不一。|"
        "这是今年以来第{n}次类似调整。",
        "nkplace": "惠山|茂山|会宁|新义州|清津",
        "cnplace": "丹东|延吉|沈阳|图们|长白|珲春",
        "route": "老挝和泰国|蒙古|第三国|越南",
        "river": "图们江|鸭绿江",
    },
    "titles": "{subject}{verb}{obj}|{place}：{subject}{verb}{obj}",
    "ledes": "{subject}{day}{verb}{obj}。{context}",
    "topics": {
        "defectors": (
            "{n}名脱北者经{route}抵达韩国|脱北者讲述在{nkplace}的艰难生活|"
            "今年抵达韩国的脱北者人数下降",
            "据韩国统一部消息，{n}名脱北者近日经{route}抵达首尔。他们曾在{cnplace}藏匿数月。|"
            "一名来自{nkplace}的脱北者向记者讲述了当地的粮食短缺和监控情况。",
            "脱北者|脱北",
        ),
        "repatriation": (
            "中国将{n}名脱北者遣返朝鲜|人权组织呼吁停止强制遣返脱北者|"
            "联合国特别报告员关注{cnplace}脱北者遣返问题",
            "人权组织表示，在{cnplace}被拘留的{n}名朝鲜人已被遣返。被遣返者可能面临严厉惩罚。|"
            "韩国政府已就强制遣返问题与中方交涉。",
            "遣返|强制遣返",
        ),
        "border": (
            "朝鲜加固图们江边境铁丝网|中朝边境{cnplace}段加强巡逻|"
            "卫星图像显示{nkplace}附近新增哨所",
            "消息人士称，朝鲜近期在{river}沿岸增设哨所，边境警备明显加强。|"
            "卫星图像显示，{nkplace}附近的边境新建了铁丝网和哨所。",
            "边境|图们江|鸭绿江|哨所",
        ),
    },
    "rewrites": "{title}|【更新】{title}|{title}（图）|快讯：{title}",
    "outlets": ("华夏|东方|南方|北方|环球", "日报|晚报|新闻网|时报"),
})  # fmt: skip

JA = language({
    "pools": {
        "subject": "気象庁|日本銀行|東京都|文部科学省|国土交通省|JR東日本|経済産業省|"
        "厚生労働省|大阪府|財務省",
        "obj": "新たな運賃制度|景気判断|今冬の電力需給見通し|来年度予算の概算要求|"
        "大雪への警戒情報|観光支援策|物価対策|港湾整備計画",
        "day": "月曜日|火曜日|水曜日|木曜日|金曜日|28日|先週",
        "place": "東京|大阪|名古屋|札幌|福岡|横浜|神戸|仙台",
        "context": "関係者によると、{place}の経済への影響が注目されている。|"
        "専門家は追加の対策が必要だと指摘している。|"
        "関連法案は今月中にも国会で審議される見通しだ。|市民からは歓迎の声が上がっている。|"
        "同様の措置は今年{n}回目となる。",
        "nkplace": "恵山|茂山|会寧|新義州|清津",
        "cnplace": "丹東|延吉|瀋陽|図們|長白|琿春",
        "route": "ラオスとタイ|モンゴル|第三国|ベトナム",
        "river": "豆満江|鴨緑江",
    },
    "titles": "{subject}、{obj}を発表|{subject}、{obj}を見直し|{place}：{subject}が{obj}を公表",
    "ledes": "{subject}は{day}、{obj}を発表した。{context}",
    "topics": {
        "defectors": (
            "脱北者{n}人、第三国経由で韓国入り|{nkplace}出身の脱北者が証言「飢えから逃れた」|"
            "韓国入りした脱北者、今年は{n}人",
            "韓国統一省によると、脱北者{n}人が{route}を経由して韓国に到着した。"
            "{cnplace}で数か月間潜伏していたという。|"
            "{nkplace}から逃れた脱北者が記者会見し、食料不足と監視の実態を語った。",
            "脱北者|脱北",
        ),
        "repatriation": (
            "中国、脱北者{n}人を強制送還|人権団体、{cnplace}で拘束の脱北者の送還停止を要求|"
            "国連特別報告者、中国に強制送還の中止を求める",
            "{cnplace}で拘束されていた脱北者{n}人が北朝鮮に強制送還されたと人権団体が"
            "明らかにした。送還された人々は厳しい処罰を受ける恐れがある。|"
            "韓国政府は中国側に強制送還の中止を申し入れた。",
            "強制送還|送還",
        ),
        "border": (
            "北朝鮮、{river}の国境警備を強化|中朝国境で密輸取り締まり強化|"
            "衛星画像で{nkplace}近くに新たな監視所",
            "北朝鮮が{river}沿いの国境に新たな監視所を設けたことが衛星画像で分かった。"
            "夜間の巡回も増えているという。|"
            "{nkplace}近くの国境で鉄条網が増設されたと関係筋が明らかにした。",
            "国境|豆満江|鴨緑江|監視所",
        ),
    },
    "rewrites": "{title}|【速報】{title}|{title}（更新）",
    "outlets": ("東都|北海|西日本|中部|東洋", "新聞|通信"),
})  # fmt: skip

LANGUAGES = {"en": EN, "ko": KO, "zh": ZH, "ja": JA}
