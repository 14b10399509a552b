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
    HaltZeroTimeCycle => "The clock stopped at {t}: message {msg} went round {n} times without time moving (a requeue or dead-letter loop with latency 0 and processing 0). Give the consumer a processing time or the scenario a latency above 0, then reset.", "{t}에서 시계가 멈췄습니다: 메시지 {msg}가 시간이 흐르지 않은 채 {n}번 되돌아왔습니다 (지연 0, 처리 시간 0에서 재큐잉 또는 데드레터 순환). 컨슈머에 처리 시간을 주거나 지연을 0보다 크게 한 뒤 초기화하세요.";
    HaltZeroTimeLoop => "The clock stopped at {t}: {n} steps without time moving (a loop at latency 0 and processing 0). Give the consumer a processing time or the scenario a latency above 0, then reset.", "{t}에서 시계가 멈췄습니다: 시간이 흐르지 않은 채 {n}단계가 실행되었습니다 (지연 0, 처리 시간 0의 순환). 컨슈머에 처리 시간을 주거나 지연을 0보다 크게 한 뒤 초기화하세요.";
    HaltWorkBudget => "The clock stopped at {t}: this run used up its work budget of {n} steps.", "{t}에서 시계가 멈췄습니다: 이 실행의 작업 한도({n}단계)를 다 썼습니다.";
    CountPublished => "Published", "발행됨";
    CountReady => "Ready", "대기 (Ready)";
    CountUnacked => "Unacked", "미확인 (Unacked)";
    CountAcked => "Acked · deleted", "ACK됨 · 삭제됨";
    HintPublished => "Messages sent by producers", "프로듀서가 보낸 메시지";
    CountRecords => "Records", "레코드";
    HintRecords => "Records the topics' logs hold now; reading does not delete them", "토픽 로그에 지금 남아 있는 레코드 (읽어도 삭제되지 않음)";
    CountLag => "Lag", "랙";
    HintLag => "Records written but not yet committed, over every group and partition", "기록되었지만 아직 커밋되지 않은 레코드 (모든 그룹·파티션 합계)";
    CountCommitted => "Committed", "커밋됨";
    HintCommitted => "Committed offsets, summed over every group and partition", "커밋된 오프셋 (모든 그룹·파티션 합계)";
    CountPushed => "Pushed", "푸시됨";
    HintPushed => "Copies Redis pushed to subscribers, one per matching subscription", "Redis가 구독자에게 푸시한 복사본 (일치하는 구독마다 하나)";
    CountServed => "Served", "처리 완료";
    HintServed => "Requests the services answered", "서비스가 응답한 요청";
    CountWaiting => "Waiting", "대기 중";
    HintWaiting => "Requests waiting for a free worker", "빈 워커를 기다리는 요청";
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
    StatePiped => "in a ZeroMQ pipe", "ZeroMQ 파이프 안";
    StateAcked => "acked", "ACK됨";
    StateRetained => "retained in a log", "로그에 보존됨";
    StateRemovedByRetention => "removed by retention", "보존 기간이 지나 삭제됨";
    StateRemovedByCompaction => "removed by compaction", "컴팩션으로 삭제됨";
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
    LegendPoison => "poison message: every consumer fails it", "독성 메시지: 어떤 컨슈머도 처리하지 못함";
    LegendFreeSlot => "free prefetch slot", "비어 있는 프리페치 자리";
    LegendRecord => "record in a partition's log", "파티션 로그의 레코드";
    LegendCommitted => "a group's committed offset", "그룹의 커밋된 오프셋";
    LegendPosition => "a member's read position", "멤버의 읽기 위치";
    LegendDeleted => "deleted by retention", "보존 기간이 지나 삭제됨";
    LegendLeader => "leader replica", "리더 레플리카";
    LegendIsr => "in sync (ISR)", "동기화됨 (ISR)";
    LegendOutOfSync => "out of the ISR", "ISR에서 빠짐";
    LegendHighWatermark => "high watermark: consumers read below it", "하이 워터마크: 컨슈머는 그 앞까지만 읽음";
    LegendUncommitted => "not yet on every ISR replica", "아직 모든 ISR 레플리카에 없음";
    CanvasLabel => "Broker topology: producers, exchanges, queues and consumers", "브로커 토폴로지: 프로듀서, 익스체인지, 큐, 컨슈머";
    ColProducers => "Producers", "프로듀서";
    ColExchanges => "Exchanges", "익스체인지";
    ColChannels => "Redis channels", "Redis 채널";
    ColChannelsAfter => "channels", "채널";
    ColQueues => "Queues", "큐";
    ColConsumers => "Consumers", "컨슈머";
    TagProducer => "producer", "프로듀서";
    TagExchange => "exchange", "익스체인지";
    TagNodeStopped => "stopped", "중지됨";
    TagTransient => "transient", "임시(transient)";
    FxStopNode => "Stop the RabbitMQ node", "RabbitMQ 노드 중지";
    FxStopNodeHint => "The node crashes: connections drop; a restart brings back durable queues and the persistent messages already on disk", "노드가 죽습니다. 연결이 끊기고, 재시작하면 내구성(durable) 큐와 이미 디스크에 기록된 영속 메시지만 돌아옵니다";
    FxStartNode => "Start the RabbitMQ node", "RabbitMQ 노드 시작";
    FxStartNodeHint => "The node starts from disk and the clients reconnect", "노드가 디스크에서 다시 시작하고 클라이언트가 다시 연결합니다";
    FxIsolateNode => "Isolate (network partition)", "네트워크 분리";
    FxIsolateNodeHint => "A network partition cuts the node off from the other nodes, not from its clients: a quorum queue it leads confirms nothing there, the majority elects a new leader, and the node pauses (pause_minority)", "네트워크 분리로 노드가 다른 노드들과 끊깁니다(클라이언트와는 연결됨). 이 노드가 리더인 쿼럼 큐는 여기서 아무것도 확인하지 못하고, 과반 쪽이 새 리더를 뽑으며, 노드는 스스로 멈춥니다(pause_minority)";
    FxHealNode => "Heal the partition", "분리 복구";
    FxHealNodeHint => "The node reaches the cluster again: an old leader steps down and discards the publishes it never committed (never confirmed), and its members catch up", "노드가 다시 클러스터와 연결됩니다. 옛 리더는 물러나며 커밋하지 못한(확인되지 않은) 발행을 버리고, 멤버들은 밀린 것을 따라잡습니다";
    InspNodePaused => "isolated · paused (pause_minority)", "분리됨 · 일시 정지 (pause_minority)";
    InspNodeBehind => "entries to catch up", "따라잡을 항목";
    InspNodeUncommitted => "uncommitted publishes here", "여기의 미커밋 발행";
    TagQuorumUncommitted => "uncommitted", "미커밋";
    NodeBehind => "behind", "뒤처짐";
    InspNode => "Node", "노드";
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
    VerbDeliverNoAck => "deliver", "전달";
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
    // ---- seminar mode: scenario library, narration, sharing, presenter (presets.rs,
    // narration.rs, share.rs, presenter.rs) ----
    SeminarBar => "Seminar tools", "세미나 도구";
    Scenarios => "Scenarios", "시나리오";
    ScenariosHint => "Open the scenario library: lessons, examples and rule demonstrations", "시나리오 모음 열기: 수업, 예제, 규칙 시연";
    PickerTitle => "Scenario library", "시나리오 모음";
    WelcomeTitle => "Welcome to Broker Lab", "Broker Lab에 오신 것을 환영합니다";
    WelcomeIntro => "Broker Lab shows how message brokers behave: where a message waits, when it is deleted, what a crash loses. Every lesson asks you to predict first, then shows what happens.", "Broker Lab은 메시지 브로커가 어떻게 동작하는지 보여 줍니다. 메시지가 어디서 기다리고, 언제 삭제되고, 장애가 나면 무엇을 잃는지 봅니다. 수업마다 먼저 예측해 보고, 그다음 실제로 어떻게 되는지 확인합니다.";
    WelcomeLesson => "Start with lesson 1", "1강부터 시작";
    WelcomeCompare => "Compare two brokers", "두 브로커 비교";
    WelcomeCompareHint => "The same orders through a RabbitMQ queue and a Kafka log", "같은 주문을 RabbitMQ 큐와 Kafka 로그로 보냅니다";
    WelcomeLab => "Explore the lab", "실험실 둘러보기";
    WelcomeLabHint => "The running lab: crash, slow down and burst it yourself", "지금 돌아가는 실험실에서 직접 장애, 지연, 버스트를 일으켜 봅니다";
    GroupLessons => "Lessons", "수업";
    GroupExamples => "Examples", "예제";
    GroupRules => "Rule demonstrations", "규칙 시연";
    Close => "Close", "닫기";
    NarrationLabel => "Lesson", "수업";
    NarrationGoal => "Goal", "학습 목표";
    NarrationPredict => "Predict", "예측해 보세요";
    NarrationAnswer => "Answer", "정답";
    NarrationBack => "Back", "이전";
    NarrationNext => "Next", "다음";
    NarrationSkip => "Skip to the step", "바로 이동";
    NarrationDiffers => "Your commands changed this run: the lesson's text may not match it.", "직접 실행한 명령 때문에 이 실행은 수업 내용과 다를 수 있습니다.";
    NarrationToScript => "Back to the lesson's run", "수업대로 되돌리기";
    NarrationReveal => "Reveal the answer", "정답 보기";
    NarrationEnd => "End of the lesson", "수업 끝";
    NarrationBackHint => "Previous step (PageUp or ←)", "이전 단계 (PageUp 또는 ←)";
    NarrationNextHint => "Next step (PageDown, → or Space)", "다음 단계 (PageDown, → 또는 스페이스)";
    Share => "Share", "공유";
    ShareHint => "Copy a link that opens exactly this moment", "지금 이 순간을 그대로 여는 링크 복사";
    ShareCopied => "Link copied", "링크를 복사했습니다";
    ShareCopyYourself => "Copy this link", "이 링크를 복사하세요";
    Export => "Export", "내보내기";
    ExportHint => "Save this session as a JSON file", "이 세션을 JSON 파일로 저장";
    Import => "Import", "가져오기";
    ImportHint => "Open a session or scenario JSON file", "세션 또는 시나리오 JSON 파일 열기";
    Present => "Present", "발표 모드";
    PresentExit => "Exit presenter", "발표 모드 끝내기";
    PresentHint => "Presenter mode: full screen, large type, colour-blind-safe colours", "발표 모드: 전체 화면, 큰 글자, 색각 이상에도 구별되는 색";
    RestoreOffer => "Restore your last session?", "지난 세션을 복원할까요?";
    Restore => "Restore", "복원";
    Dismiss => "Dismiss", "무시";
    LinkRejected => "This link could not be opened", "이 링크를 열 수 없습니다";
    FileRejected => "This file could not be opened", "이 파일을 열 수 없습니다";
    SessionRejected => "The saved session could not be restored", "저장된 세션을 복원할 수 없습니다";
    ProblemLinkTooLong => "the link is longer than 10 MB", "링크가 10MB보다 깁니다";
    ProblemLinkDamaged => "the link is damaged or cut short", "링크가 손상되었거나 잘렸습니다";
    ProblemNotSession => "the link holds no session", "링크에 세션이 들어 있지 않습니다";
    ProblemNotJson => "not valid JSON", "올바른 JSON이 아닙니다";
    ProblemScenario => "invalid scenario", "시나리오 오류";
    ProblemSession => "invalid session", "세션 오류";
    ProblemTooManyCommands => "too many commands (at most 10,000)", "명령이 너무 많습니다 (최대 10,000개)";
    ProblemTooLate => "the clock position is past one simulated year", "시계 위치가 시뮬레이션 시간 1년을 넘습니다";
    ProblemReplayTooLong => "replaying it would take too long", "다시 재생하는 데 너무 오래 걸립니다";
    ProblemUnknownPreset => "no built-in scenario has this name", "이 이름의 내장 시나리오가 없습니다";
    ProblemFileTooLarge => "the file is larger than 50 MB", "파일이 50MB보다 큽니다";
    ProblemNotText => "the file could not be read as text", "파일을 텍스트로 읽을 수 없습니다";
    ProblemFetch => "the scenario file could not be fetched", "시나리오 파일을 받아 오지 못했습니다";
    PresetRejected => "This scenario could not be opened", "이 시나리오를 열 수 없습니다";
    PresetLoading => "Loading…", "불러오는 중…";
    // ---- visual lab: dock, dashboard, charts, event log, message trace (dashboard.rs,
    // charts.rs, eventlog.rs, trace.rs) and the ledger's reasons (panels.rs LedgerLine) ----
    TabDashboard => "Dashboard", "대시보드";
    TabEventLog => "Event log", "이벤트 로그";
    TabTrace => "Message trace", "메시지 추적";
    TabDashboardHint => "Rates, queue depths and latency over time, and each queue's figures", "시간에 따른 처리율, 큐 깊이, 지연 시간과 큐마다의 수치";
    TabEventLogHint => "Every event of the run in order, newest last; filter by message id or text", "실행의 모든 이벤트를 순서대로, 최신이 마지막입니다. 메시지 id나 글자로 거를 수 있습니다";
    TabTraceHint => "One message's journey, hop by hop: click a message id to follow it", "메시지 하나가 거친 경로를 한 단계씩 보여 줍니다. 메시지 id를 누르면 따라갑니다";
    SpeedHint => "How many simulated seconds pass in one real second", "실제 1초 동안 흐르는 시뮬레이션 시간(초)";
    DockCollapse => "Hide the panel", "패널 숨기기";
    DockExpand => "Show the panel", "패널 보이기";
    DashQueue => "Queue", "큐";
    DashMessages => "Messages", "메시지";
    DashReady => "Ready", "대기 (Ready)";
    DashUnacked => "Unacked", "미확인 (Unacked)";
    DashTotal => "Total", "합계 (Total)";
    DashRates => "Message rates", "메시지 속도";
    DashRatesHint => "Per second, averaged over RabbitMQ's 5 s statistics interval; blank while zero", "초당 개수, RabbitMQ 통계 주기 5초 평균; 0이면 비워 둡니다";
    DashRateIncoming => "incoming", "유입";
    DashRateDeliver => "deliver / get", "전달";
    DashRateRedeliver => "redelivered", "재전달";
    DashRateAck => "ack", "ACK";
    DashGroup => "Consumer group", "컨슈머 그룹";
    DashLag => "Lag", "랙 (lag)";
    DashProcessed => "Processed", "처리됨";
    DashDuplicates => "Duplicates", "중복";
    DashSkipped => "Skipped", "건너뜀";
    DashPartitionLag => "Lag per partition", "파티션별 랙";
    DashService => "Service (no broker)", "서비스 (브로커 없음)";
    DashBusy => "Busy", "작업 중";
    DashWaiting => "Waiting", "기다리는 요청";
    DashServed => "Served", "처리 완료";
    DashRefused => "Refused", "거절됨";
    DashTimedOut => "Timed out", "시간 초과";
    DashLossesTitle => "Not acked: by reason", "ACK되지 않은 메시지: 이유별";
    DashLossesNone => "Nothing dropped, expired or dead-lettered", "버려지거나 만료되거나 데드 레터로 간 메시지가 없습니다";
    ReasonUnroutable => "unroutable", "라우팅 불가 (unroutable)";
    ReasonReturned => "returned (mandatory)", "반환됨 (mandatory)";
    ReasonRejectedByQueue => "rejected-publish (queue full)", "reject-publish (큐 가득 참)";
    ReasonMaxLength => "max-length (drop-head)", "최대 길이 초과 (drop-head)";
    ReasonRejected => "rejected, no requeue", "거부됨 (requeue 없음)";
    ReasonLostInConsumerCrash => "lost in a consumer crash (auto-ack)", "컨슈머 중단으로 유실 (자동 ACK)";
    ReasonNoSubscriber => "no subscriber", "구독자 없음";
    ReasonSubscriberDisconnected => "subscriber disconnected (output buffer)", "구독자 연결 끊김 (출력 버퍼)";
    ReasonDeliveryLimit => "delivery-limit exceeded", "전달 한도 초과 (delivery-limit)";
    ReasonDeadLetterUnroutable => "dead-letter unroutable", "데드 레터 라우팅 불가";
    ReasonSimulatorCapacity => "simulator capacity", "시뮬레이터 용량 초과";
    ReasonQueueDeleted => "queue deleted (x-expires, exclusive, auto-delete)", "큐 삭제됨 (x-expires, exclusive, auto-delete)";
    ReasonTransientQueueLost => "transient queue: not recovered after the node restart", "임시(transient) 큐: 노드 재시작 후 복구되지 않음";
    ReasonNotYetOnDisk => "persistent, but not yet written to disk (no confirm)", "영속 메시지지만 아직 디스크에 기록되지 않음 (확인 응답 없음)";
    ReasonServiceOverloaded => "service overloaded", "서비스 과부하";
    ReasonRequestTimeout => "request timeout", "요청 시간 초과";
    ReasonNoKeyForCompactedTopic => "no key: a compacted topic refuses it", "키 없음: 컴팩션 토픽이 거부함";
    ReasonDeduplicated => "deduplicated (SQS FIFO, idempotent producer)", "중복 제거됨 (SQS FIFO, 멱등 프로듀서)";
    ReasonNonPersistentDeadLetter => "non-persistent dead letter discarded", "비영속 데드 레터 폐기";
    ReasonLostInBrokerRestart => "lost in a broker restart (non-persistent)", "브로커 재시작으로 유실 (비영속)";
    ReasonBrokerDown => "broker down", "브로커 중단";
    ReasonLostOnFailover => "acked, lost on failover", "확인 후 장애 조치로 유실";
    ReasonTruncatedOnElection => "truncated by leader election (not acked)", "리더 선출로 잘림 (미확인)";
    ReasonDeliveryTimeout => "producer gave up (delivery timeout)", "프로듀서 전송 포기 (delivery timeout)";
    ReasonPoisonAckDiscarded => "poison ack on a non-durable subscription (discarded)", "비지속 구독의 독 메시지 ACK (폐기)";
    ReasonStreamIdRejected => "XADD id not above the stream's last id", "XADD ID가 스트림의 마지막 ID보다 크지 않음";
    ReasonLostInFailover => "lost in a Redis failover (not yet replicated)", "Redis 페일오버로 유실 (아직 복제되지 않음)";
    ReasonHwmDrop => "high-water mark (ZeroMQ PUB)", "하이 워터 마크 초과 (ZeroMQ PUB)";
    ReasonProcessExit => "process exit (ZeroMQ pipes)", "프로세스 종료 (ZeroMQ 파이프)";
    ReasonSlowJoiner => "slow joiner (subscription not there yet)", "늦게 합류한 구독자 (slow joiner)";
    DlReasonRejected => "rejected", "거부됨 (rejected)";
    DlReasonExpired => "expired", "만료됨 (expired)";
    DlReasonMaxlen => "maxlen", "최대 길이 (maxlen)";
    DlReasonDeliveryLimit => "delivery_limit", "전달 한도 (delivery_limit)";
    DlReasonMaxReceiveCount => "maxReceiveCount (SQS)", "최대 수신 횟수 (maxReceiveCount)";
    DlReasonPoisonAck => "poison_ack", "독 메시지 ACK (poison_ack)";
    ChartDepth => "Queue depth (msgs)", "큐 깊이 (개)";
    ChartLag => "Group lag (records)", "그룹 랙 (레코드)";
    ChartBacklog => "Depth · lag (msgs)", "깊이 · 랙 (개)";
    ChartLagSuffix => "lag", "랙";
    ChartThroughput => "Throughput (msg/s)", "처리량 (개/초)";
    ChartIn => "in (published)", "유입 (발행)";
    ChartOut => "out (done)", "유출 (처리 완료)";
    ChartLatency => "Latency (ms)", "지연 시간 (ms)";
    ChartNoData => "No data yet", "아직 데이터가 없습니다";
    ElogFilter => "Filter: m42 or text", "거르기: m42 또는 텍스트";
    ElogEvents => "{n} events", "이벤트 {n}개";
    ElogWindow => "The last 100,000 events are kept", "최근 이벤트 100,000개를 보관합니다";
    ElogTraceHint => "Click a message id to trace it", "메시지 id를 누르면 추적합니다";
    ElogFollowing => "following the newest", "최신 이벤트를 따라가는 중";
    ElogJump => "Jump to newest ↓", "최신으로 이동 ↓";
    ElogEmpty => "No events yet", "아직 이벤트가 없습니다";
    ElogNoMatch => "No event matches the filter", "거르기와 일치하는 이벤트가 없습니다";
    EvPublished => "published", "발행";
    EvRouted => "routed", "라우팅";
    EvEnqueued => "queued", "큐에 들어감";
    EvDelivered => "delivered", "전달";
    EvRedelivered => "redelivered", "재전달";
    EvProcessed => "processed", "처리 완료";
    EvFailed => "processing failed", "처리 실패";
    EvAcked => "acked", "ACK";
    EvNacked => "nacked", "NACK";
    EvRejected => "rejected", "거부";
    EvRequeued => "requeued", "다시 큐에 넣음";
    EvExpired => "expired", "만료";
    EvDeadLettered => "dead-lettered", "데드 레터";
    EvDropped => "dropped", "버려짐";
    EvPublisherNacked => "nack to publisher", "발행자에게 NACK";
    EvChannelPublished => "PUBLISH", "PUBLISH (발행)";
    EvPushed => "pushed", "푸시";
    EvAppended => "appended", "로그에 추가";
    EvRecordProcessed => "record processed", "레코드 처리";
    EvDuplicate => "processed again", "중복 처리";
    EvCrashed => "consumer crashed", "컨슈머 중단";
    EvRestarted => "consumer restarted", "컨슈머 재시작";
    EvChannelClosed => "channel closed", "채널 닫힘";
    EvSessionExpired => "session expired", "세션 만료";
    EvDisconnected => "subscriber disconnected", "구독자 연결 끊김";
    EvOffsetReset => "offset reset", "오프셋 재설정";
    EvNoOffset => "no offset", "오프셋 없음";
    EvRebalance => "rebalance", "리밸런스";
    EvRebalanceDone => "rebalance done", "리밸런스 완료";
    EvRetention => "retention", "보존 정책 삭제";
    EvQueueDeleted => "queue deleted", "큐 삭제";
    EvCommand => "command", "명령";
    JourneyTitle => "journey", "여정";
    JourneyInput => "Message id", "메시지 id";
    JourneyButton => "Trace", "추적";
    JourneyEmpty => "Click a message id in the event log, or type one here, to follow its journey.", "이벤트 로그에서 메시지 id를 누르거나 여기에 입력하면 그 여정을 따라갑니다.";
    JourneyTruncated => "The start of this journey is older than the last 100,000 events the log keeps.", "이 여정의 시작은 로그가 보관하는 최근 이벤트 100,000개보다 오래되어 보이지 않습니다.";
    JourneyNotFound => "No event of this message is in the log.", "로그에 이 메시지의 이벤트가 없습니다.";
    JourneyCapped => "Only the first 500 steps are listed.", "처음 500단계만 표시합니다.";
    LedgerReasonsShow => "Show the reasons", "이유 보기";
    // ---- time controls, inspector, failure toolbar, help (controls.rs, inspector.rs, toolbar.rs, help.rs)
    Step => "Step", "한 단계";
    StepHint => "Pause and go to the next event (→)", "일시정지하고 다음 이벤트로 이동 (→)";
    NextEventAt => "next event at", "다음 이벤트";
    Faster => "Faster (+)", "빠르게 (+)";
    Slower => "Slower (−)", "느리게 (−)";
    Seed => "Seed", "시드";
    SeedHint => "The random seed of the run: the same seed replays the same run", "실행의 난수 시드: 같은 시드는 같은 실행을 재현합니다";
    SeedInvalid => "The seed must be a whole number from 0 to 18446744073709551615", "시드는 0부터 18446744073709551615까지의 정수여야 합니다";
    ResetHint => "Start over at 0 s with this seed, paused (R)", "이 시드로 0초부터 다시 시작하고 일시정지 (R)";
    HelpTitle => "Keyboard shortcuts", "키보드 단축키";
    HelpPlay => "Play / pause", "재생 / 일시정지";
    HelpStep => "Step to the next event (pauses)", "다음 이벤트로 한 단계 (일시정지됨)";
    HelpFaster => "Faster", "빠르게";
    HelpSlower => "Slower", "느리게";
    HelpReset => "Reset to 0 s with the seed in the Seed field (paused)", "시드 칸의 시드로 0초부터 초기화 (일시정지)";
    HelpHelp => "Show or hide this help", "이 도움말 보이기 / 숨기기";
    HelpClose => "Close this help, or close the inspector", "이 도움말 닫기 또는 인스펙터 닫기";
    HelpLessonNext => "In a lesson: next step, or reveal the answer (clickers send these keys)", "수업 중: 다음 단계 또는 정답 보기 (프레젠터 리모컨도 이 키를 보냅니다)";
    HelpLessonBack => "In a lesson: back one step, to its exact state", "수업 중: 이전 단계로, 그때 상태 그대로";
    HelpCanvasKeys => "On the focused drawing: move the selection between entities", "그림에 포커스가 있을 때: 엔티티 사이로 선택 이동";
    HelpTyping => "Shortcuts do nothing while you type in a field.", "입력 칸에 입력하는 동안에는 단축키가 동작하지 않습니다.";
    HelpInspect => "Click an entity in the drawing, or choose it under Inspect, to see and change its settings.", "그림에서 요소를 클릭하거나 '살펴보기'에서 골라 설정을 보고 바꿀 수 있습니다.";
    FxToolbar => "Failure injection", "장애 주입";
    FxBurst => "Burst", "버스트";
    FxBurstHint => "Publish this many messages at once", "이만큼의 메시지를 한꺼번에 발행";
    FxBurstSize => "Burst size (messages)", "버스트 크기 (메시지 수)";
    FxPoison => "Poison", "독성 메시지";
    FxPoisonHint => "Publish one message that every consumer fails to process", "모든 컨슈머가 처리에 실패하는 메시지 하나를 발행";
    FxPause => "Pause", "일시정지";
    FxResume => "Resume", "다시 발행";
    FxPauseHint => "Stop or resume this producer's publishing", "이 프로듀서의 발행을 멈추거나 다시 시작";
    FxCrash => "Crash", "강제 종료";
    FxCrashHint => "The consumer dies before acking: its unacked messages are requeued", "컨슈머가 ACK 전에 죽습니다: 미확인 메시지는 다시 큐에 들어갑니다";
    FxRestart => "Restart", "재시작";
    FxRestartHint => "Reconnect the consumer", "컨슈머를 다시 연결";
    FxSlow => "Slow", "느리게";
    FxNormalSpeed => "Normal", "보통 속도";
    FxSlowHint => "Make this consumer's processing 5 times slower, or normal again", "이 컨슈머의 처리를 5배 느리게, 또는 다시 보통으로";
    InspInspect => "Inspect", "살펴보기";
    InspPickerHint => "Choose an entity to see and change its settings", "설정을 보고 바꿀 요소를 고르세요";
    InspNone => "— none —", "— 없음 —";
    InspClose => "Close the inspector (Esc)", "인스펙터 닫기 (Esc)";
    InspTopics => "Topics", "토픽";
    InspServices => "Services", "서비스";
    InspTopic => "topic", "토픽";
    InspService => "service", "서비스";
    InspGoneKind => "removed", "없음";
    InspGone => "This entity no longer exists (after a reset, say).", "이 요소는 더 이상 없습니다 (예: 초기화 뒤).";
    TheoryTitle => "Theory", "큐잉 이론";
    TheoryLambda => "arrivals", "도착률";
    TheoryMu => "service rate", "처리율";
    TheoryC => "servers", "서버 수";
    TheoryRho => "utilisation", "이용률";
    TheoryModel => "Model", "모델";
    TheoryModelMmc => "M/M/c (Erlang C)", "M/M/c (얼랑 C)";
    TheoryModelMd1 => "M/D/1 (Pollaczek–Khinchine)", "M/D/1 (폴라체크–힌친)";
    TheoryModelMg1 => "M/G/1 (Pollaczek–Khinchine)", "M/G/1 (폴라체크–힌친)";
    TheoryModelGgc => "G/G/c (Kingman, approximate)", "G/G/c (킹먼 근사)";
    TheoryPerMember => "{model} for each member, fed by its own partitions: a partition is read by one member of the group, so {c} members are {c} separate queues. A record waits from its append to the start of its processing, the fetch's trip included", "멤버마다 {model}, 각자 맡은 파티션만 받습니다. 파티션 하나는 그룹의 멤버 하나만 읽으므로 멤버 {c}명은 큐 {c}개입니다. 레코드의 대기는 추가된 때부터 처리가 시작될 때까지이며, 가져오기(fetch) 왕복 시간도 들어갑니다";
    TheoryShared => "One queue shared by the same {c} consumers would wait Wq = {wq}.", "같은 컨슈머 {c}개가 큐 하나를 함께 쓴다면 Wq = {wq}일 것입니다.";
    TheoryWq => "Wait Wq", "대기 시간 Wq";
    TheoryLq => "Length Lq", "큐 길이 Lq";
    TheoryPWait => "P(wait)", "대기 확률";
    TheoryObserved => "Observed", "측정값";
    TheoryPredicted => "Predicted", "예측값";
    TheoryBand => "± 95% batch-means band", "± 배치 평균 95% 구간";
    TheoryUnstable => "ρ ≥ 1: the queue grows without bound, by about {rate} messages per second.", "ρ ≥ 1: 큐가 끝없이 늘어납니다. 초당 약 {rate}건씩 쌓입니다.";
    TheoryMeasuring => "Measuring: a model needs {n} arrivals and {n} processed messages.", "측정 중: 모델을 고르려면 도착 {n}건과 처리 {n}건이 필요합니다.";
    InspState => "state", "상태";
    InspRunning => "running", "실행 중";
    InspPublishing => "publishing", "발행 중";
    InspSlowed => "slowed", "느려짐";
    InspDelivered => "delivered", "전달됨";
    InspBusy => "busy", "사용률";
    InspStage => "Service (stage)", "서비스 (단계)";
    StageOrder => "order", "주문";
    StagePayment => "payment", "결제";
    StageInventory => "inventory", "재고";
    StageShipping => "shipping", "배송";
    StageClient => "caller (reply queue)", "호출자 (응답 큐)";
    StageTranslator => "translator (converts, then publishes)", "변환기 (변환 후 발행)";
    SagaTitle => "Saga: each order at each service", "사가: 주문별 서비스 상태";
    SagaOrder => "order id", "주문 id";
    SagaOutbox => "outbox", "아웃박스";
    SagaIdempotent => "idempotent", "멱등";
    SagaSwitch => "saga", "사가";
    SagaSwitchHint => "Remedies switched on at this service", "이 서비스에 켜진 처방";
    SagaLost => "lost", "유실";
    SagaTwice => "done twice", "두 번 처리됨";
    SagaAnomalies => "Anomalies now", "지금의 이상 상태";
    SagaPaidOutOfStock => "paid but out of stock", "결제됐지만 재고 없음";
    SagaReservedPaymentFailed => "reserved but payment failed", "예약됐지만 결제 실패";
    SagaShippedTwice => "shipped twice", "이중 배송";
    SagaChargedTwice => "charged twice", "이중 결제";
    SagaPaidNotShipped => "paid, not shipped", "결제됐지만 미배송";
    SagaLostCount => "lost orders", "유실된 주문";
    SagaCost => "Cost of the remedies", "처방의 대가";
    SagaRelayed => "outbox rows relayed", "아웃박스 중계";
    SagaCompensations => "compensations sent", "보상 메시지";
    SagaDuplicates => "duplicates skipped", "중복 건너뜀";
    SagaPending => "mean time pending", "평균 대기";
    SagaReplies => "replies matched", "짝지은 응답";
    SagaReplyWait => "mean wait for a reply", "평균 응답 대기";
    SagaOrchestrates => "orchestrates", "오케스트레이션";
    SagaKafkaTxn => "Kafka transactions", "카프카 트랜잭션";
    SagaTxnAborted => "transactions aborted, redone", "중단 후 다시 한 트랜잭션";
    SagaInstance => "saga instance", "사가 인스턴스";
    SagaInstanceHint => "The orchestrator's stored record of this saga: the step it waits on (stateName) and its flags", "오케스트레이터가 저장한 이 사가의 기록: 응답을 기다리는 단계(stateName)와 플래그";
    SagaCompensatingFlag => "compensating", "보상 중";
    SagaCompleted => "completed", "완료";
    SagaRolledBack => "rolled back", "롤백됨";
    SagaLastRequest => "waiting for the reply to command {m}", "명령 {m}의 응답을 기다리는 중";
    SagaLocked => "orders held pending", "보류 중인 주문";
    SagaLockHint => "PENDING is the saga's semantic lock: other requests against this order (a cancel) are refused until it ends", "PENDING은 사가의 의미적 잠금입니다: 사가가 끝날 때까지 이 주문에 대한 다른 요청(취소)은 거절됩니다";
    SagaTotals => "{n} orders · {s} shipped · {c} compensated", "주문 {n} · 배송 {s} · 보상 {c}";
    SagaTotalsCancelled => " · {x} cancelled", " · 취소 {x}";
    SagaCancel => "cancel", "취소";
    SagaCancelHint => "Cancel this approved order: the cancel saga asks shipping, payment and inventory to undo their part. A parcel that has left cannot be stopped, and the order goes back to approved", "승인된 이 주문을 취소합니다: 취소 사가가 배송, 결제, 재고에 각자 한 일을 되돌리라고 요청합니다. 이미 떠난 소포는 멈출 수 없어 주문은 다시 승인 상태로 돌아갑니다";
    // -- sequence diagram and swimlane (issue 15 item 3, issue 14) --
    SeqLabel => "Sequence diagram: each hop of a message is an arrow along the time axis", "시퀀스 다이어그램: 메시지가 한 번 옮겨질 때마다 시간 축 위의 화살표 하나";
    SeqClickHint => "Click an arrow to open that message's journey", "화살표를 누르면 그 메시지의 여정이 열립니다";
    SeqEmpty => "No message matches yet.", "아직 해당하는 메시지가 없습니다.";
    SeqNothingToUndo => "nothing to undo", "되돌릴 것 없음";
    SeqDuplicate => "duplicate skipped", "중복 건너뜀";
    SeqReply => "reply matched", "응답 짝지음";
    SeqReplyUnmatched => "unmatched reply", "짝 없는 응답";
    SeqSagaAdvanced => "next command", "다음 명령";
    SeqSagaCompensating => "compensate", "보상 시작";
    SeqCancelRefused => "refused: parcel has left", "거절: 소포가 이미 떠남";
    SeqTranslated => "translated", "변환함";
    SeqCrashedAfterWrite => "died between write and publish", "쓰기 후 발행 전 죽음";
    SeqEventLost => "event lost", "이벤트 유실";
    SeqSwimlane => "Swimlane of order {m}", "주문 {m}의 스윔레인";
    SeqPickHint => "Click an order row to draw its swimlane", "주문 행을 누르면 그 주문의 스윔레인을 그립니다";
    TabSequence => "Sequence", "시퀀스";
    TabSequenceHint => "Messages as arrows between producers, brokers and consumers along a time axis", "시간 축을 따라 프로듀서, 브로커, 컨슈머 사이를 오가는 메시지를 화살표로 그립니다";
    SeqMsgs => "messages", "메시지";
    SeqTxn => "transaction id", "트랜잭션 id";
    SeqFrom => "from (s)", "시작 (초)";
    SeqTo => "to (s)", "끝 (초)";
    SeqApply => "Draw", "그리기";
    SeqServicesOnly => "services only", "서비스만";
    // -- end sequence --
    // -- what-if sweeps (issue 15 item 5, src/sweep.rs) --
    TabSweep => "What-if", "가정 실험";
    TabSweepHint => "Run the scenario again over a range of one setting and compare the outcomes", "설정 하나를 여러 값으로 바꿔 시나리오를 다시 돌리고 결과를 비교합니다";
    SweepParam => "Vary", "바꿀 값";
    SweepConsumers => "consumers on {x}", "{x}의 컨슈머 수";
    SweepPrefetch => "prefetch on {x}", "{x}의 prefetch";
    SweepRate => "rate of {x} (msg/s)", "{x}의 발행 속도 (msg/s)";
    SweepPartitions => "partitions of {x}", "{x}의 파티션 수";
    SweepFrom => "from", "시작";
    SweepTo => "to", "끝";
    SweepStep => "step", "간격";
    SweepSecs => "each run (s)", "실행마다 (초)";
    SweepRun => "Run", "실행";
    SweepCancel => "Cancel", "취소";
    SweepCsv => "Export CSV", "CSV 내보내기";
    SweepNone => "Nothing to vary here: no queue with consumers, no constant or Poisson producer, no Kafka topic.", "바꿔 볼 것이 없습니다: 컨슈머가 있는 큐도, 일정·포아송 프로듀서도, Kafka 토픽도 없습니다.";
    SweepBadRange => "Check the range: from ≤ to, a step above 0, and a run of at least 1 s.", "범위를 확인하세요: 시작 ≤ 끝, 간격은 0보다 크고 실행 시간은 1초 이상이어야 합니다.";
    SweepHint => "Each value reruns the scenario from the start, headless, with the same seed; the stage keeps playing.", "값마다 같은 시드로 시나리오를 처음부터 화면 없이 다시 실행합니다. 무대는 계속 재생됩니다.";
    SweepProgress => "{done} / {total} runs", "{done} / {total} 실행";
    SweepCancelled => "Cancelled", "취소됨";
    SweepLatency => "Latency (ms, log scale)", "지연 (ms, 로그 눈금)";
    SweepThroughput => "Throughput (msg/s)", "처리량 (msg/s)";
    SweepDrops => "Dropped", "버려짐";
    SweepP50 => "p50 latency", "p50 지연";
    SweepP95 => "p95 latency", "p95 지연";
    SweepWq => "wait in queue", "큐 대기";
    SweepWqTheory => "theory wait", "이론 대기";
    SweepModel => "model", "모델";
    SweepEmptyChart => "Run to plot latency, throughput and drops against the value.", "실행하면 값에 따른 지연, 처리량, 버려짐을 그립니다.";
    SweepChartLabel => "What-if chart: p50 and p95 latency, throughput and drops against the value; theory dashed", "가정 실험 차트: 값에 따른 p50·p95 지연, 처리량, 버려짐. 이론은 점선";
    // -- end sweep --
    InspFailures => "Inject a failure", "장애 주입";
    InspSettings => "Settings", "설정";
    InspPattern => "Rate pattern", "발행 패턴";
    InspRateConstant => "constant", "일정";
    InspRatePoisson => "random (Poisson)", "무작위 (포아송)";
    InspRateSquare => "on / off waves", "켜짐 / 꺼짐 반복";
    InspRateRamp => "ramp", "점점 변화";
    InspRateManual => "manual only", "수동만";
    InspRateBurst => "one burst", "한 번의 버스트";
    InspManualNote => "Publishes only when you press Burst or Poison.", "버스트나 독성 메시지를 누를 때만 발행합니다.";
    InspRate => "Rate", "발행 속도";
    InspPerSec => "msg/s", "메시지/초";
    InspHigh => "High rate", "높은 속도";
    InspLow => "Low rate", "낮은 속도";
    InspPeriod => "Period", "주기";
    InspDuty => "High share (0–1)", "높은 구간 비율 (0–1)";
    InspFrom => "From", "시작 속도";
    InspTo => "To", "끝 속도";
    InspOver => "Over", "변화 시간";
    InspTargets => "Publishes to", "발행 대상";
    InspRemoveProducer => "Remove this producer", "이 프로듀서 제거";
    InspRemoveConsumer => "Remove this consumer", "이 컨슈머 제거";
    InspProcessing => "Processing time", "처리 시간";
    InspFixed => "fixed", "고정";
    InspExponential => "random (exponential)", "무작위 (지수 분포)";
    InspUniform => "between min and max", "최소–최대 사이";
    InspProcessingTime => "Processing time", "처리 시간";
    InspProcessingMean => "Mean processing time", "평균 처리 시간";
    InspProcessingMin => "Min", "최소";
    InspProcessingMax => "Max", "최대";
    InspPrefetch => "Prefetch", "프리페치 (prefetch)";
    InspPrefetchHint => "Unacked messages the consumer may hold; 0 = unlimited.", "컨슈머가 가질 수 있는 미확인 메시지 수; 0 = 무제한.";
    InspAckMode => "Ack mode", "ACK 방식";
    InspManualAck => "manual ACK", "수동 ACK";
    InspPriority => "Consumer priority", "컨슈머 우선순위";
    InspFailureProbability => "Failure probability (0–1)", "실패 확률 (0–1)";
    InspOnFailure => "A failed message is", "실패한 메시지는";
    InspRequeue => "requeued (nack)", "다시 큐에 넣기 (requeue)";
    InspDeadLetterOrDrop => "dead-lettered or dropped", "데드 레터로 보내거나 버림";
    InspGroup => "Consumer group", "컨슈머 그룹";
    InspLag => "lag", "랙 (lag)";
    InspAssignor => "assignor", "할당 전략";
    InspCommit => "commit", "커밋";
    InspCommitAuto => "auto commit", "자동 커밋";
    InspCommitAfter => "commit after processing", "처리 후 커밋";
    InspCommitBefore => "commit before processing", "처리 전 커밋";
    InspMembers => "members", "멤버";
    InspRebalancing => "rebalancing", "리밸런스 중";
    InspGroupFixed => "The simulator has no command to change a group's assignor or commit mode: they are read-only.", "시뮬레이터에는 그룹의 할당 전략이나 커밋 방식을 바꾸는 명령이 없어 읽기 전용입니다.";
    InspType => "type", "유형";
    InspMaxLength => "Max length", "최대 길이 (x-max-length)";
    InspNoLimit => "no limit", "제한 없음";
    InspOverflow => "When full", "가득 찼을 때 (overflow)";
    InspTtl => "Message TTL", "메시지 TTL";
    InspDlx => "Dead-letter exchange", "데드 레터 익스체인지 (DLX)";
    InspDlxRouting => "Dead-letter routing key", "데드 레터 라우팅 키";
    InspOwnRouting => "the message's own key", "메시지 자신의 키";
    InspDeliveryLimit => "Delivery limit", "전달 횟수 제한 (delivery limit)";
    InspDeliveryLimitQuorum => "Only quorum queues have a delivery limit.", "전달 횟수 제한은 쿼럼 큐에만 있습니다.";
    InspBindings => "Bindings", "바인딩";
    InspUnbind => "Unbind", "바인딩 해제";
    InspDefaultExchangeNote => "The default exchange routes by queue name: every queue is bound to it by its own name, and it cannot be bound.", "기본 익스체인지는 큐 이름으로 라우팅합니다. 모든 큐가 자기 이름으로 바인딩되어 있고, 따로 바인딩할 수 없습니다.";
    InspPartitions => "partitions", "파티션";
    InspPartition => "partition", "파티션";
    InspRetention => "retention", "보존 기간";
    InspRetentionBytes => "retention bytes", "보존 크기 (바이트)";
    InspTopicFixed => "Partitions and retention are fixed when the topic is created in the simulator: read-only.", "파티션과 보존 설정은 시뮬레이터에서 토픽을 만들 때 정해지므로 읽기 전용입니다.";
    InspLogStart => "log start", "로그 시작";
    InspLogEnd => "log end", "로그 끝";
    InspSubscribers => "subscribers", "구독자";
    InspChannelNote => "A Redis channel stores nothing: each message goes to the clients subscribed at that moment.", "Redis 채널은 아무것도 저장하지 않습니다. 메시지는 그 순간 구독 중인 클라이언트에게만 갑니다.";
    InspConcurrency => "busy / workers", "처리 중 / 작업자";
    InspWaiting => "waiting", "대기 중";
    InspServed => "served", "처리 완료";
    InspRejected => "refused", "거절됨";
    InspTimedOut => "timed out", "시간 초과";
    InspReadOnlyNote => "The simulator has no command to change a service: read-only.", "시뮬레이터에는 서비스를 바꾸는 명령이 없어 읽기 전용입니다.";
    InspAdd => "Add", "추가";
    InspAddBinding => "Add a binding", "바인딩 추가";
    InspAddConsumer => "Add a consumer", "컨슈머 추가";
    InspAddMember => "Add a member", "멤버 추가";
    InspAddQueue => "Add a queue", "큐 추가";
    InspAddProducer => "Add a producer", "프로듀서 추가";
    InspAddGroup => "Add a consumer group", "컨슈머 그룹 추가";
    InspName => "Name", "이름";
    InspRouting => "Routing key", "라우팅 키";
    InspNotANumber => "Not a number:", "숫자가 아닙니다:";
    InspNotAWholeNumber => "Not a whole number ≥ 0:", "0 이상의 정수가 아닙니다:";
    // ---- end of time controls / inspector block
    // ---- canvas: event broker, services, two-band compare view, colour mode ----
    BandMessage => "Message broker — deleted on ack", "메시지 브로커 — ACK하면 삭제";
    BandEvent => "Event broker — log retained", "이벤트 브로커 — 로그 보존";
    BandBrokers => "Brokers — the replicas each one holds", "브로커 — 각자 가진 레플리카";
    ColTopics => "Topics · partitions", "토픽 · 파티션";
    ColGroups => "Consumer groups", "컨슈머 그룹";
    ColServices => "Services (no broker)", "서비스 (브로커 없음)";
    ColServicesAfter => "services", "서비스";
    TagTopic => "topic", "토픽";
    TagService => "service · no broker", "서비스 · 브로커 없음";
    // ---- AWS SQS: the console's words (messages available / in flight / delayed) ----
    ColSqsQueues => "SQS queues", "SQS 큐";
    ColSqsQueuesAfter => "SQS queues", "SQS 큐";
    TagSqsQueue => "SQS queue", "SQS 큐";
    ColKafkaBrokers => "Kafka brokers", "카프카 브로커";
    ColKafkaBrokersAfter => "Kafka brokers", "카프카 브로커";
    TagKafkaBroker => "Kafka broker", "카프카 브로커";
    TagKafkaBrokerDown => "Kafka broker · down", "카프카 브로커 · 중단";
    NodeIsolated => "isolated", "분리됨";
    NodeKafkaLeaders => "leader of", "리더";
    NodeKafkaReplicas => "replicas", "레플리카";
    MarkHighWatermark => "HW", "HW";
    InspKafkaFenced => "down · fenced by the controller", "중단 · 컨트롤러가 차단함";
    InspKafkaUnnoticed => "down · the controller has not noticed yet", "중단 · 컨트롤러가 아직 모름";
    InspIsolated => "isolated (running)", "분리됨 (실행 중)";
    InspKafkaIsolatedFenced => "isolated · fenced", "분리됨 · 차단됨";
    InspKafkaStaleRecords => "records only here", "여기에만 있는 레코드";
    InspKafkaRole => "role", "역할";
    InspKafkaLeader => "leader ★", "리더 ★";
    InspKafkaFollower => "follower", "팔로워";
    InspKafkaLeo => "log end (LEO)", "로그 끝 (LEO)";
    InspKafkaHw => "high watermark", "하이 워터마크";
    FxCrashBroker => "Crash broker", "브로커 강제 종료";
    FxCrashBrokerHint => "The broker process dies: the controller notices after broker.session.timeout.ms and elects new leaders", "브로커 프로세스가 죽습니다. 컨트롤러는 broker.session.timeout.ms 뒤에 알아채고 새 리더를 선출합니다";
    FxRestartBroker => "Restart broker", "브로커 재시작";
    FxRestartBrokerHint => "The broker comes back as a follower: it cuts its logs back to the leaders' and catches up", "브로커가 팔로워로 돌아옵니다. 로그를 리더의 로그에 맞춰 잘라 내고 따라잡습니다";
    FxIsolateBroker => "Isolate (network partition)", "네트워크 분리";
    FxIsolateBrokerHint => "A network partition cuts the broker off from the other brokers and the controller, not from clients: fenced after broker.session.timeout.ms, it still takes writes as an old leader until healed", "네트워크 분리로 브로커가 다른 브로커와 컨트롤러에게서 끊깁니다(클라이언트와는 연결됨). broker.session.timeout.ms 뒤에 차단되지만, 복구될 때까지 옛 리더로서 계속 쓰기를 받습니다";
    FxHealBroker => "Heal the partition", "분리 복구";
    FxHealBrokerHint => "The broker reaches the cluster again: it learns the newer leader epochs, truncates what only it held (acked records are lost) and catches up", "브로커가 다시 클러스터와 연결됩니다. 더 새로운 리더 에포크를 알게 되어 자기에게만 있던 것을 잘라 내고(확인된 레코드도 유실) 따라잡습니다";
    FxSlowBroker => "Slow fetches +40 s", "가져오기 +40초 지연";
    FxSlowBrokerHint => "Its follower fetches take 40 s longer (a GC pause, a slow disk): past replica.lag.time.max.ms it leaves the ISR, and acks=all stops waiting for it", "팔로워로서의 가져오기가 40초 더 걸립니다(GC 정지, 느린 디스크). replica.lag.time.max.ms를 넘으면 ISR에서 빠지고, acks=all은 더 이상 이 브로커를 기다리지 않습니다";
    ColStreams => "Redis streams", "Redis 스트림";
    ColStreamsAfter => "streams", "스트림";
    TagStream => "Redis stream", "Redis 스트림";
    CountStreamLength => "XLEN", "XLEN";
    HintStreamLength => "Entries in the Redis streams (XLEN): reading does not remove them", "Redis 스트림의 엔트리 수(XLEN). 읽어도 지워지지 않습니다";
    CountStreamPending => "PEL", "PEL";
    HintStreamPending => "Entries delivered to a group consumer and not yet XACKed: each group's pending entries list", "그룹 컨슈머에게 전달되었지만 아직 XACK되지 않은 엔트리: 그룹마다의 펜딩 엔트리 목록(PEL)";
    LegendStreamPending => "pending entry: delivered, not yet XACKed (in a PEL)", "펜딩 엔트리: 전달됐지만 아직 XACK 안 됨 (PEL에 있음)";
    LegendStreamRead => "a group's last-delivered id: what it has read", "그룹의 last-delivered-id: 그룹이 읽은 곳까지";
    InspStreamIdle => "idle", "유휴";
    InspStreamDeliveries => "deliveries", "전달 횟수";
    InspStreamClaimHint => "Claims this group's pending entries idle at least 1 s for this consumer (XAUTOCLAIM … 1000 0-0): each moves to its PEL with the delivery count up by one, and it processes them.", "이 그룹에서 1초 이상 유휴 상태인 펜딩 엔트리를 이 컨슈머가 가져옵니다(XAUTOCLAIM … 1000 0-0). 엔트리마다 이 컨슈머의 PEL로 옮겨지고 전달 횟수가 1 늘어나며, 이 컨슈머가 처리합니다.";
    InspStreamXclaimHint => "Claims this one entry for this consumer (XCLAIM … 1000 id): offered once the entry has been idle 1 s, so its owner is not still working on it. It moves to this consumer's PEL with the delivery count up by one.", "이 엔트리 하나를 이 컨슈머가 가져옵니다(XCLAIM … 1000 id). 소유 컨슈머가 아직 처리 중이 아니도록 1초 이상 유휴 상태일 때만 나타납니다. 이 컨슈머의 PEL로 옮겨지고 전달 횟수가 1 늘어납니다.";
    InspStreamNote => "Redis never redelivers by itself: a pending entry stays in its owner's PEL until that consumer reads its history (XREADGROUP 0) or another consumer claims it (XCLAIM, XAUTOCLAIM).", "Redis는 스스로 다시 전달하지 않습니다. 펜딩 엔트리는 그 소유 컨슈머가 자기 이력을 읽거나(XREADGROUP 0) 다른 컨슈머가 가져갈 때(XCLAIM, XAUTOCLAIM)까지 PEL에 남습니다.";
    TagPulsarTopic => "Pulsar topic · subscriptions", "Pulsar 토픽 · 구독";
    TagPulsarLedger => "log (managed ledger) · cursors", "로그 (managed ledger) · 커서";
    NodePulsarEntries => "entries", "엔트리";
    NodePulsarStored => "stored", "저장";
    NodePulsarNoSubs => "no subscription", "구독 없음";
    TagZmqSocket => "ZeroMQ socket", "ZeroMQ 소켓";
    ColZmqPeers => "ZeroMQ peers (no broker)", "ZeroMQ 피어 (브로커 없음)";
    ColZmqPeersAfter => "ZeroMQ peers", "ZeroMQ 피어";
    NodeZmqDown => "process down: its pipes are gone", "프로세스 중단: 파이프도 사라짐";
    NodeZmqBlocked => "send blocked: pipes full", "send 막힘: 파이프가 가득 참";
    NodeZmqBlockedShort => "blocked", "막힘";
    NodeZmqSent => "sent", "보냄";
    NodeZmqReceived => "received", "받음";
    NodeZmqNoPipe => "no connection", "연결 없음";
    NodeZmqDrops => "drops", "버림";
    BandViaBroker => "With a broker — producer → broker → consumer: one hop more", "브로커 있음 — 프로듀서 → 브로커 → 컨슈머: 한 홉 더";
    BandBrokerless => "No broker — peer to peer, a pipe in each process", "브로커 없음 — 피어에서 피어로, 파이프는 각 프로세스 안";
    NodeSqsVisible => "available", "사용 가능";
    NodeSqsInFlight => "in flight", "전송 중";
    NodeSqsDelayed => "delayed", "지연";
    VerbRedrive => "redrive to DLQ", "DLQ로 이동 (redrive)";
    CountSqsVisible => "Available", "사용 가능";
    HintSqsVisible => "Messages visible in SQS queues, ready to be received (ApproximateNumberOfMessagesVisible)", "SQS 큐에서 보이며 수신할 수 있는 메시지 (ApproximateNumberOfMessagesVisible)";
    CountSqsInFlight => "In flight", "전송 중";
    HintSqsInFlight => "Received and hidden by the visibility timeout until deleted (ApproximateNumberOfMessagesNotVisible)", "수신되어 삭제될 때까지 가시성 타임아웃으로 숨겨진 메시지 (ApproximateNumberOfMessagesNotVisible)";
    CountSqsDeleted => "Deleted", "삭제됨";
    HintSqsDeleted => "Messages consumers deleted from SQS queues (DeleteMessage)", "컨슈머가 SQS 큐에서 삭제한 메시지 (DeleteMessage)";
    LegendSqsVisible => "available in an SQS queue", "SQS 큐에서 사용 가능";
    LegendSqsInFlight => "in flight: hidden until deleted, or until the ring (its visibility timeout) runs out; ×N is its ApproximateReceiveCount", "전송 중: 삭제되거나 고리(가시성 타임아웃)가 다 줄어들 때까지 숨김, ×N은 ApproximateReceiveCount";
    InspSqsAvailable => "Messages available", "사용 가능한 메시지";
    InspSqsInFlight => "Messages in flight", "전송 중인 메시지";
    InspSqsDelayed => "Messages delayed", "지연된 메시지";
    InspSqsOldest => "Age of oldest message", "가장 오래된 메시지의 나이";
    InspSqsSent => "Sent", "전송됨";
    InspSqsReceived => "Received", "수신됨";
    InspSqsDeleted => "Deleted", "삭제됨";
    InspSqsRedriven => "Moved to the DLQ", "DLQ로 이동됨";
    InspSqsExpired => "Expired (retention)", "만료됨 (보존 기간)";
    InspSqsDeduplicated => "Deduplicated", "중복 제거됨";
    InspSqsEmptyReceives => "Empty receives", "빈 수신";
    InspSqsConsumers => "Polling consumers", "폴링하는 컨슈머";
    InspSqsType => "Type", "유형";
    InspSqsStandard => "Standard", "표준 (Standard)";
    InspSqsFifo => "FIFO", "FIFO (선입선출)";
    InspSqsVisibilityTimeout => "Visibility timeout", "가시성 타임아웃 (visibility timeout)";
    InspSqsRetention => "Message retention period", "메시지 보존 기간";
    InspSqsDelay => "Delivery delay", "전송 지연 (DelaySeconds)";
    InspSqsWaitTime => "Receive message wait time", "메시지 수신 대기 시간";
    InspSqsRedrive => "Redrive: maxReceiveCount → DLQ", "Redrive: 최대 수신 횟수 → 데드 레터 큐 (DLQ)";
    InspSqsNoRedrive => "none", "없음";
    InspSqsContentDedup => "Content-based deduplication", "콘텐츠 기반 중복 제거";
    InspSqsDedupScope => "Deduplication scope", "중복 제거 범위";
    InspSqsScopeQueue => "queue", "큐";
    InspSqsScopeGroup => "message group", "메시지 그룹";
    InspSqsInFlightLimit => "In-flight limit", "전송 중 메시지 한도";
    InspSqsOn => "on", "켜짐";
    InspSqsOff => "off", "꺼짐";
    InspSqsReadOnlyNote => "Read-only here: a script's update_sqs_queue command changes these settings.", "여기서는 읽기 전용입니다. 스크립트의 update_sqs_queue 명령으로 이 설정을 바꿉니다.";
    // ---- ActiveMQ / JMS: the web console's words ----
    ColJmsTopics => "JMS topics", "JMS 토픽";
    ColJmsStores => "JMS queues · subscriptions", "JMS 큐 · 구독";
    ColJmsStoresAfter => "JMS queues · subscriptions", "JMS 큐 · 구독";
    TagJmsTopic => "JMS topic", "JMS 토픽";
    TagJmsQueue => "JMS queue", "JMS 큐";
    TagJmsDurable => "durable", "지속 구독";
    TagJmsNonDurable => "non-durable", "비지속 구독";
    TagJmsOffline => "offline", "오프라인";
    NodeJmsSubscriptions => "subscriptions", "구독";
    NodeJmsPending => "pending", "대기";
    CountJmsPending => "Pending", "대기 (Pending)";
    HintJmsPending => "Messages the JMS broker still holds: stored, or dispatched and not yet acknowledged (Number Of Pending Messages)", "JMS 브로커가 아직 가진 메시지: 저장되어 있거나, 전달되었지만 아직 ACK되지 않은 것 (Number Of Pending Messages)";
    CountJmsEnqueued => "Enqueued", "들어옴 (Enqueued)";
    HintJmsEnqueued => "Messages sent to JMS queues and topics (Messages Enqueued; starts again when the broker restarts)", "JMS 큐와 토픽에 보낸 메시지 (Messages Enqueued, 브로커가 재시작하면 다시 0부터)";
    CountJmsDequeued => "Dequeued", "나감 (Dequeued)";
    HintJmsDequeued => "Messages acknowledged and removed from JMS queues and subscriptions (Messages Dequeued)", "ACK되어 JMS 큐와 구독에서 지워진 메시지 (Messages Dequeued)";
    CountJmsConsumers => "Consumers", "컨슈머";
    InspJmsExpired => "expired", "만료됨";
    InspJmsExclusive => "exclusive consumer", "배타적 컨슈머";
    InspJmsGroup => "message group", "메시지 그룹";
    InspJmsSubscriber => "subscriber", "구독자";
    InspJmsOnline => "connected", "연결됨";
    InspJmsQueueNote => "A queue gives each message to one consumer. A message group (JMSXGroupID) stays with the consumer that got its first message; an exclusive consumer takes everything while it lives.", "큐는 메시지마다 컨슈머 하나에게 줍니다. 메시지 그룹(JMSXGroupID)은 첫 메시지를 받은 컨슈머에 계속 붙고, 배타적 컨슈머는 살아 있는 동안 모든 메시지를 받습니다.";
    InspJmsTopicNote => "A topic keeps nothing itself: each subscription stores its own copy of every message.", "토픽 자체는 아무것도 보관하지 않습니다. 구독마다 모든 메시지의 사본을 따로 저장합니다.";
    InspJmsDurableNote => "A durable subscription keeps storing messages while its subscriber is offline and delivers them when it comes back.", "지속 구독은 구독자가 오프라인인 동안에도 메시지를 저장해 두었다가, 돌아오면 전달합니다.";
    InspJmsNonDurableNote => "A non-durable subscription lives only while its subscriber is connected: what is published in between is never stored for it.", "비지속 구독은 구독자가 연결된 동안만 존재합니다. 그 사이에 발행된 메시지는 그 구독자를 위해 저장되지 않습니다.";
    LegendJmsPending => "pending in a JMS queue or subscription: its own stored copy", "JMS 큐나 구독에서 대기: 그 구독 몫으로 저장된 사본";
    NodeRetention => "retention", "보존";
    NodeRecords => "records", "레코드";
    LogDeleted => "deleted", "삭제됨";
    NodeLag => "lag", "랙";
    NodeProcessed => "processed", "처리";
    NodeIdle => "idle: no partition", "유휴: 파티션 없음";
    NodeRebalancing => "rebalancing", "리밸런스 중";
    NodeAwaiting => "waiting for partitions", "파티션 배정 대기";
    NodeNoMembers => "no members", "멤버 없음";
    NodeMore => "more", "개 더";
    NodeBusy => "busy", "사용 중";
    NodeWaiting => "waiting", "대기";
    NodeRejected => "rejected", "거절";
    NodeTimedOut => "timed out", "타임아웃";
    NodeServed => "served", "처리 완료";
    VerbFetch => "fetch", "가져오기";
    VerbRequest => "request", "요청";
    ColourBy => "Colour by", "색 기준";
    ColourProducer => "producer", "프로듀서";
    ColourPriority => "priority", "우선순위";
    ColourKeyed => "record key", "레코드 키";
    Unkeyed => "no key", "키 없음";
    PriorityNone => "none", "없음";
    HintRoleProducer => "a producer: it creates messages and sends them on", "프로듀서: 메시지를 만들어 보냅니다";
    HintRoleRouter => "a router (an exchange, a channel, a topic): it passes each message on by its rules and keeps none", "라우터(익스체인지, 채널, 토픽): 규칙에 따라 메시지를 넘기기만 하고 보관하지 않습니다";
    HintRoleStore => "a store (a queue, a partition, a stream): it keeps messages; a message broker deletes them once acked, an event broker keeps its log", "저장소(큐, 파티션, 스트림): 메시지를 보관합니다. 메시지 브로커는 ACK되면 지우고, 이벤트 브로커는 로그를 남깁니다";
    HintRoleConsumer => "a consumer: it takes messages and processes them, then acks or commits its offset where its broker asks", "컨슈머: 메시지를 받아 처리하고, 브로커에 따라 ACK하거나 오프셋을 커밋합니다";
    HintRoleService => "a service called directly, with no broker: when it is busy, a request is refused", "브로커 없이 직접 호출되는 서비스: 바쁘면 요청을 거절합니다";
    HintRolePeer => "a ZeroMQ socket in a process: peers talk directly and its pipes live inside the process", "프로세스 안의 ZeroMQ 소켓: 피어끼리 직접 통신하고, 파이프는 프로세스 안에 있습니다";
    HintRoleBroker => "a broker node: a server process holding queues or replicas; what it held only in memory dies with it", "브로커 노드: 큐나 복제본을 가진 서버 프로세스입니다. 메모리에만 있던 것은 함께 사라집니다";
    CanvasSelectHint => "Click a node to select it; with the canvas focused, ↑ and ↓ move the selection (also ← → outside a lesson) and Escape clears it", "노드를 클릭해 선택하세요. 캔버스에 포커스가 있으면 ↑ ↓ 키로 선택을 옮기고(수업 밖에서는 ← →도) Esc로 해제합니다";
    CompareOpen => "Compare", "비교";
    CompareOpenHint => "Open the comparison: one stream into a queue and into a log", "비교 화면 열기: 같은 스트림을 큐와 로그에 보냅니다";
    AddLateConsumer => "Add a late consumer", "늦은 컨슈머 추가";
    AddLateConsumerHint => "A new consumer joins the queue now: acked messages are already deleted", "지금 큐에 새 컨슈머를 붙입니다. ACK된 메시지는 이미 삭제되었습니다";
    AddNewGroup => "Add a new consumer group", "새 컨슈머 그룹 추가";
    AddNewGroupHint => "A new group reads the log from the earliest offset: it replays every retained record", "새 그룹이 가장 이른 오프셋부터 로그를 읽어 보존된 모든 레코드를 재생합니다";
    CompareReceived => "received", "받음";
    CompareInLog => "in the log", "로그에 보존";
    CompareRefused => "Not applied", "적용되지 않음";
    // ---- end of canvas / compare block
    // ---- broker-or-brokerless view (src/brokerless.rs) ----
    BlTitle => "Broker or brokerless", "브로커냐 브로커리스냐";
    BlBroker => "Broker · RabbitMQ", "브로커 · RabbitMQ";
    BlBrokerWhat => "one more hop; acks; durable queue, persistent messages", "한 홉 더 · ACK · 내구성 큐, 영속 메시지";
    BlBrokerless => "Brokerless · ZeroMQ", "브로커리스 · ZeroMQ";
    BlBrokerlessWhat => "direct, no hop; pipes live in the processes", "직접 전달 · 파이프는 프로세스 메모리 안";
    BlDone => "done", "처리";
    BlInQueue => "in queue", "큐에";
    BlInPipes => "in pipes", "파이프에";
    BlRedelivered => "redelivered", "재전달";
    BlLost => "lost", "유실";
    BlNoneLost => "none lost", "유실 없음";
    BlCrashBroker => "Crash the broker", "브로커 중단";
    BlRestartBroker => "Restart the broker", "브로커 재시작";
    BlCrashPeer => "Crash a peer", "피어 중단";
    BlCrashPeerHint => "The reading ZeroMQ process dies: what its pipes, and the sender's pipe to it, held is lost (process_exit)", "읽는 쪽 ZeroMQ 프로세스가 죽습니다. 그 파이프와 보내는 쪽에서 그리로 가는 파이프에 있던 것은 유실됩니다(process_exit)";
    BlRestartPeer => "Restart the peer", "피어 재시작";
    BlRestartPeerHint => "The process starts again with empty pipes and connects again", "프로세스가 빈 파이프로 다시 시작해 다시 연결합니다";
    BlSlowWorkers => "Slow both workers ×5", "두 워커 느리게 ×5";
    BlNormalSpeed => "Workers back to normal", "워커 원래 속도로";
    BlSlowHint => "Both workers take five times as long a job: the queue grows, the ZeroMQ pipes fill to their HWM and the PUSH blocks", "두 워커가 작업마다 다섯 배 오래 걸립니다. 큐는 쌓이고, ZeroMQ 파이프는 HWM까지 차고 PUSH는 막힙니다";
    // ---- end of broker-or-brokerless block
    // ---- timeline (src/timeline.rs) ----
    TimelineLabel => "Timeline: drag or click to move through the run. Keys: , . one event, [ ] one second, { } one lesson step", "타임라인: 끌거나 눌러서 실행을 오갑니다. 키: , . 이벤트 하나, [ ] 1초, { } 수업 단계 하나";
    TimelineCommand => "command", "명령";
    TimelineStep => "lesson step", "수업 단계";
    TimelineFirstDrop => "first drop", "첫 유실";
    TimelineFirstDead => "first dead letter", "첫 데드 레터";
    BranchOriginal => "Original", "원래 실행";
    BranchFork => "Fork", "분기";
    BranchPlaying => "Playing", "재생 중";
    BranchSwitchToOriginal => "Switch to the original", "원래 실행으로 전환";
    BranchSwitchToFork => "Switch to the fork", "분기로 전환";
    BranchForkHint => "A command behind the end of the run forked it: each branch keeps its own commands; switching plays the other one from the same time", "실행 끝보다 앞선 시점의 명령이 실행을 나눴습니다. 두 갈래는 각자의 명령을 지니며, 전환하면 같은 시각에서 다른 갈래를 재생합니다";
    // ---- end timeline ----
    // ---- RabbitMQ cluster and quorum queues (src/kinds/rabbitmq.rs, issue 12) ----
    ColRabbitMqNodes => "RabbitMQ nodes", "RabbitMQ 노드";
    TagRabbitMqNode => "RabbitMQ node", "RabbitMQ 노드";
    NodeQuorumLeads => "leads", "리더";
    NodeQuorumMembers => "members", "멤버";
    TagQuorumElecting => "electing a leader", "리더 선출 중";
    TagQuorumNoMajority => "no majority · writes wait", "과반 없음 · 쓰기 대기";
    InspNodes => "Nodes: stop or start one", "노드: 하나를 중지하거나 시작";
    InspQuorumMembers => "members (★ leader)", "멤버 (★ 리더)";
    InspQuorumHeld => "publishes waiting, unconfirmed", "확인 없이 기다리는 발행";
    InspNodeQueues => "Queues on this node", "이 노드의 큐";
    InspQueueRole => "role", "역할";
    InspQuorumFollower => "follower", "팔로워";
    InspClassicHere => "classic queue", "클래식 큐";
    LegendQuorumLeader => "quorum queue leader", "쿼럼 큐 리더";
    LegendQuorumFollower => "quorum queue member (follower)", "쿼럼 큐 멤버 (팔로워)";
    // ---- end RabbitMQ cluster ----
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
        let same: &[Key] = &[
            Key::AppName,
            Key::MarkHighWatermark,
            Key::CountStreamLength,
            Key::CountStreamPending,
        ];
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
