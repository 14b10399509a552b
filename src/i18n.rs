//! Every string the UI shows, in Korean and English, behind one `t(lang, key)` lookup.
//!
//! Terms follow the project's Korean glossary (`reference/glossary-ko.md`): 큐, 컨슈머,
//! 프로듀서, 대기 (Ready), 미확인 (Unacked), 재생 / 일시정지, 삭제됨, 버려짐.

/// The two UI languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    /// The language for a BCP 47 tag such as `navigator.language`: `ko*` is Korean, the rest English.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.trim().to_ascii_lowercase().starts_with("ko") {
            Lang::Ko
        } else {
            Lang::En
        }
    }

    /// The value for `<html lang>` and for storing the choice.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ko => Lang::En,
            Lang::En => Lang::Ko,
        }
    }
}

/// Defines `Key`, `Key::ALL` and `t` from one table, so a key cannot lack a translation.
macro_rules! strings {
    ($($key:ident => $en:literal, $ko:literal;)*) => {
        /// A UI string.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Key { $($key),* }

        impl Key {
            /// Every key, for the completeness test.
            #[allow(dead_code)]
            pub const ALL: &'static [Key] = &[$(Key::$key),*];
        }

        /// The text of `key` in `lang`.
        pub fn t(lang: Lang, key: Key) -> &'static str {
            match key {
                $(Key::$key => match lang { Lang::En => $en, Lang::Ko => $ko },)*
            }
        }
    };
}

strings! {
    AppName => "Broker Lab", "Broker Lab";
    Untitled => "Untitled scenario", "제목 없는 시나리오";
    LanguageToggle => "Switch language", "언어 전환";
    Play => "Play", "재생";
    Pause => "Pause", "일시정지";
    PlayHint => "Play or pause the simulation (Space)", "시뮬레이션 재생 / 일시정지 (스페이스)";
    Speed => "Speed", "속도";
    SimClock => "Simulated time", "시뮬레이션 시간";
    Lagging => "Too much work at this speed: the clock runs slower than asked", "이 속도에서는 처리량이 많아 시계가 요청보다 느리게 갑니다";
    CountPublished => "Published", "발행됨";
    CountReady => "Ready", "대기 (Ready)";
    CountUnacked => "Unacked", "미확인 (Unacked)";
    CountAcked => "Acked · deleted", "ACK됨 · 삭제됨";
    HintPublished => "Messages sent by producers", "프로듀서가 보낸 메시지";
    HintReady => "Messages waiting in queues for a consumer", "큐에서 컨슈머를 기다리는 메시지";
    HintUnacked => "Delivered to a consumer, waiting for its ACK", "컨슈머에게 전달되어 ACK를 기다리는 메시지";
    HintAcked => "Acked by a consumer and deleted from the queue", "컨슈머가 ACK하여 큐에서 삭제된 메시지";
    Ledger => "Ledger", "장부";
    LedgerHint => "Every message copy ever created is in exactly one state", "생성된 모든 메시지 사본은 정확히 하나의 상태에 있습니다";
    LedgerCreated => "created", "생성";
    StateInFlight => "in flight", "전송 중";
    StateReady => "ready", "대기";
    StateUnacked => "unacked", "미확인";
    StateProcessing => "processing", "처리 중";
    StateAcked => "acked", "ACK됨";
    StateRetained => "retained in a log", "로그에 보존됨";
    StateRemovedByRetention => "removed by retention", "보존 기간이 지나 삭제됨";
    StateDeadLettered => "dead-lettered", "데드 레터";
    StateExpired => "expired", "만료됨";
    StateDropped => "dropped", "버려짐";
    Balanced => "balanced", "일치";
    Unbalanced => "NOT balanced", "불일치";
    Legend => "Legend", "범례";
    LegendMoving => "message on the wire (colour = producer)", "이동 중인 메시지 (색 = 프로듀서)";
    LegendReady => "ready in a queue", "큐에서 대기";
    LegendUnacked => "unacked, at its consumer", "컨슈머의 미확인 메시지";
    LegendProcessing => "being processed", "처리 중";
    LegendRedelivered => "redelivered", "재전달됨";
    LegendFreeSlot => "free prefetch slot", "비어 있는 프리페치 자리";
    CanvasLabel => "Broker topology: producers, exchanges, queues and consumers", "브로커 토폴로지: 프로듀서, 익스체인지, 큐, 컨슈머";
    ColProducers => "Producers", "프로듀서";
    ColExchanges => "Exchanges", "익스체인지";
    ColChannels => "Redis channels", "Redis 채널";
    ColExchangesChannels => "Exchanges · channels", "익스체인지 · 채널";
    ColQueues => "Queues", "큐";
    ColConsumers => "Consumers", "컨슈머";
    TagProducer => "producer", "프로듀서";
    TagExchange => "exchange", "익스체인지";
    TagChannel => "Redis channel", "Redis 채널";
    TagQueue => "queue", "큐";
    TagConsumer => "consumer", "컨슈머";
    TagSubscriber => "subscriber", "구독자";
    DefaultExchange => "(default)", "(기본)";
    NodeSent => "sent", "발행";
    NodeType => "type", "유형";
    VerbPublish => "publish", "발행";
    VerbBind => "binding key", "바인딩 키";
    VerbDeliver => "deliver · ACK", "전달 · ACK";
    VerbPush => "push", "푸시";
    NodeAcked => "acked", "ACK";
    NodeReady => "ready", "대기";
    NodeUnacked => "unacked", "미확인";
    NodeEmpty => "empty", "비어 있음";
    NodePaused => "paused", "일시정지됨";
    StatusCrashed => "crashed", "중단됨";
    StatusDisconnected => "disconnected", "연결 끊김";
    StatusRemoved => "removed", "제거됨";
    AutoAck => "auto-ack", "자동 ACK";
    PanicTitle => "Broker Lab stopped because of an internal error", "내부 오류로 Broker Lab이 멈췄습니다";
    PanicHelp => "Press Reset to start again. Details are in the browser console.", "초기화를 눌러 다시 시작하세요. 자세한 내용은 브라우저 콘솔에 있습니다.";
    Reset => "Reset", "초기화";
    ScenarioError => "The scenario could not be loaded", "시나리오를 불러올 수 없습니다";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_korean_and_english() {
        assert!(Key::ALL.len() > 40);
        for &key in Key::ALL {
            for lang in [Lang::Ko, Lang::En] {
                assert!(
                    !t(lang, key).trim().is_empty(),
                    "{key:?} has no {lang:?} text"
                );
            }
        }
    }

    #[test]
    fn korean_strings_are_translated() {
        // Keys whose text is a name (the same in both languages) are the exceptions.
        let same: &[Key] = &[Key::AppName];
        for &key in Key::ALL {
            if !same.contains(&key) {
                assert_ne!(
                    t(Lang::Ko, key),
                    t(Lang::En, key),
                    "{key:?} is untranslated"
                );
            }
        }
    }

    #[test]
    fn language_from_browser_tag() {
        assert_eq!(Lang::from_tag("ko"), Lang::Ko);
        assert_eq!(Lang::from_tag("ko-KR"), Lang::Ko);
        assert_eq!(Lang::from_tag("KO-kr"), Lang::Ko);
        assert_eq!(Lang::from_tag("en-US"), Lang::En);
        assert_eq!(Lang::from_tag("ja"), Lang::En);
        assert_eq!(Lang::from_tag(""), Lang::En);
        assert_eq!(Lang::Ko.other(), Lang::En);
    }
}
