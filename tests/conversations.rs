//! Conversations: every escalation reason in several languages with a negative control each,
//! satisfaction, topic carry-over, and the tone of the top reply.

mod common;

use reply_engine::message::{Role, Suggestion, Turn};
use reply_engine::request::RawRequest;

fn buyer(text: &str) -> Turn {
    Turn { role: Role::Buyer, text: text.into() }
}

fn seller(text: &str) -> Turn {
    Turn { role: Role::Seller, text: text.into() }
}

fn suggest(history: Vec<Turn>, text: &str) -> Suggestion {
    let request = RawRequest { text: text.into(), history, date: "2026-06-15".into(), ..RawRequest::default() };
    common::engine().suggest(&request.validate().unwrap()).unwrap()
}

fn assert_reason(suggestion: &Suggestion, reason: &str) {
    let c = &suggestion.classification;
    assert!(c.escalate, "expected escalation ({reason}): {c:?}");
    assert!(c.escalate_reasons.iter().any(|r| r == reason), "expected {reason}: {:?}", c.escalate_reasons);
}

fn assert_no_reason(suggestion: &Suggestion, reason: &str) {
    let c = &suggestion.classification;
    assert!(!c.escalate_reasons.iter().any(|r| r == reason), "unexpected {reason}: {c:?}");
}

#[test]
fn repeated_short_messages() {
    for (turns, last) in [
        (vec!["hello?", "anyone?"], "hello??"),
        (vec!["在吗", "在不在"], "人呢"),
        (vec!["oi", "alguém aí"], "cadê"),
        (vec!["مرحبا", "في أحد؟"], "ردوا"),
    ] {
        let history = turns.iter().map(|t| buyer(t)).collect();
        assert_reason(&suggest(history, last), "repeated_short_messages");
    }
    // Negative control: the seller answered in between.
    let history = vec![buyer("hello?"), seller("Hello! How can I help you today?"), buyer("hi")];
    assert_no_reason(&suggest(history, "price?"), "repeated_short_messages");
}

#[test]
fn unanswered_questions() {
    let history = vec![buyer("When do you ship to Canada? Do you use Canada Post?"), buyer("Is there tracking?")];
    assert_reason(&suggest(history, "And can I pay with PayPal?"), "unanswered_questions");
    let history = vec![buyer("¿Cuándo envían el pedido? ¿Con qué paquetería?")];
    assert_reason(&suggest(history, "¿Y cuánto tarda en llegar a Monterrey?"), "unanswered_questions");
    let history = vec![buyer("Когда отправите? Какой службой?")];
    assert_reason(&suggest(history, "Трек-номер будет?"), "unanswered_questions");
    // Negative control: each question was answered.
    let history = vec![
        buyer("When do you ship?"),
        seller("We ship within 48 hours."),
        buyer("Which carrier?"),
        seller("AliExpress Standard Shipping with tracking."),
    ];
    assert_no_reason(&suggest(history, "How long to Canada?"), "unanswered_questions");
    // A greeting or "one moment" from the seller answers nothing.
    let history = vec![
        buyer("Is this charger original? Does it fast-charge an iPhone 15?"),
        seller("Hello dear, welcome to our store!"),
        buyer("Hello?"),
        seller("One moment please"),
    ];
    assert_reason(&suggest(history, "Is there a warranty?"), "unanswered_questions");
}

#[test]
fn frustration() {
    for text in [
        "I'm confused, you said it shipped but the tracking says nothing",
        "还是没有收到，我都问了三次了",
        "todavía no me llega y ya les pregunté otra vez",
        "ainda não chegou, já é a terceira vez que pergunto",
        "Опять то же самое, посылки всё ещё нет",
        "Ich verstehe das nicht, das Paket ist immer noch nicht da",
        "je ne comprends pas, toujours pas de colis",
    ] {
        let history = vec![buyer("where is my parcel?"), seller("It is on the way, please wait.")];
        assert_reason(&suggest(history, text), "frustration");
    }
    let history = vec![buyer("where is my parcel?"), seller("It is on the way, please wait.")];
    assert_no_reason(&suggest(history, "ok, how many more days do you think?"), "frustration");
}

#[test]
fn threat() {
    for text in [
        "If it doesn't arrive by Friday I'll open a dispute and file a PayPal claim",
        "再不处理我就给差评并投诉到平台",
        "vou abrir uma disputa e reclamar no Procon",
        "voy a abrir una disputa y pedir el contracargo a mi banco",
        "Я открою спор и напишу жалобу",
        "سأفتح نزاع وأبلغ عنكم",
    ] {
        assert_reason(&suggest(vec![], text), "threat");
    }
    assert_no_reason(&suggest(vec![], "how do I leave a review after it arrives?"), "threat");
}

#[test]
fn a_review_word_and_a_writing_verb_make_a_threat() {
    for text in [
        "if this goes on I'll write about it in my review",
        "Wenn das so weitergeht, schreibe ich alles in die Bewertung",
        "jak tak dalej, opiszę wszystko w opinii",
        "böyle giderse yorumlara yazarım",
        "이대로면 후기에 다 적을게요",
    ] {
        assert_reason(&suggest(vec![], text), "threat");
    }
    // A review word alone, or a writing verb alone, is not a threat.
    for text in ["where can I read the reviews of this model?", "I'll write my address below", "후기 보고 샀어요"] {
        assert_no_reason(&suggest(vec![], text), "threat");
    }
}

#[test]
fn a_thanks_closes_the_topic_and_a_ping_keeps_it() {
    let history = vec![
        buyer("I want my money back for order 7781, the lamp is broken"),
        seller("Sorry! The refund is approved and will reach your card in 5-7 days."),
    ];
    assert_eq!(suggest(history.clone(), "hello??").classification.intent, "refund");
    assert_eq!(suggest(history.clone(), "perfect, thank you! 👍").classification.intent, "greeting");
    // An acknowledgement followed by a new question takes the question's intent.
    assert_eq!(suggest(history, "ok got it, thanks. can I also get an invoice?").classification.intent, "invoice");
}

#[test]
fn anger() {
    for text in ["WHERE IS MY ORDER I PAID THREE WEEKS AGO", "you are scammers, total fraud", "where is it???", "骗子！！！", "VCS SÃO UNS GOLPISTAS"] {
        assert_reason(&suggest(vec![], text), "anger");
    }
    assert_no_reason(&suggest(vec![], "Where is my order? I paid three weeks ago."), "anger");
}

#[test]
fn seller_repeating() {
    let canned = "Your parcel is on the way, please wait a few more days.";
    let history = vec![buyer("where is my parcel"), seller(canned), buyer("it's been 40 days"), seller(canned)];
    assert_reason(&suggest(history, "so what now"), "seller_repeating");
    let canned_zh = "亲，包裹正在运输中，请耐心等待哦";
    let history = vec![buyer("包裹到哪了"), seller(canned_zh), buyer("都四十天了"), seller(canned_zh)];
    assert_reason(&suggest(history, "然后呢"), "seller_repeating");
    // Negative control: two different answers.
    let history = vec![
        buyer("where is my parcel"),
        seller(canned),
        buyer("it's been 40 days"),
        seller("I checked with the carrier: it cleared customs yesterday and is with your local post now."),
    ];
    assert_no_reason(&suggest(history, "so what now"), "seller_repeating");
}

#[test]
fn a_satisfied_buyer_is_not_escalated_even_with_a_new_question() {
    let history = vec![
        buyer("WHERE IS MY ORDER???"),
        seller("I'm very sorry. It cleared customs today and will arrive within 3 days; here is the tracking."),
    ];
    for text in [
        "ok thanks, understood. and do you sell the matching case too?",
        "好的明白了，谢谢。那个手机壳也有卖吗？",
        "Понятно, спасибо. А чехол такой же есть?",
        "entendi, obrigado! vcs têm a capinha também?",
    ] {
        let suggestion = suggest(history.clone(), text);
        assert!(!suggestion.classification.escalate, "{text}: {:?}", suggestion.classification);
        assert!(suggestion.classification.satisfied, "{text}");
    }
}

#[test]
fn topic_carries_over_from_the_history() {
    let history = vec![buyer("when will you ship my order?"), seller("We ship within 48 hours after payment.")];
    assert_eq!(suggest(history, "ok and how many days?").classification.intent, "shipping_time");
    let history = vec![
        buyer("my parcel hasn't arrived, it's been a month"),
        seller("Here is your tracking number: LP123456789CN. It should arrive soon."),
    ];
    assert_eq!(suggest(history, "still nothing").classification.intent, "not_received");
}

#[test]
fn tone_follows_the_state() {
    // Angry: an apology comes first.
    let suggestion = suggest(vec![], "THE BLENDER ARRIVED BROKEN. UNBELIEVABLE!!!");
    let top = &suggestion.replies[0];
    assert!(top.applied_rules.iter().any(|r| r == "angry_apology_first"), "{:?}", top.applied_rules);
    let body = top.text.split_once('\n').map(|(_, body)| body).unwrap_or(&top.text).to_lowercase();
    assert!(body.starts_with("i'm") && body.contains("sorry") || body.starts_with("sorry") || body.contains("apolog"), "{}", top.text);
    // Escalated: a colleague or supervisor takes over, in the buyer's language.
    let suggestion = suggest(vec![], "Vou abrir uma disputa e reclamar no Procon, vocês são uns golpistas");
    let top = &suggestion.replies[0];
    assert!(top.applied_rules.iter().any(|r| r == "escalated_handover"));
    assert!(top.text.contains("supervisor"), "{}", top.text);
    assert_eq!(top.language, "pt");
    // Anxious: a concrete time to hear back.
    let suggestion = suggest(vec![], "I'm worried, I need it for my daughter's birthday next week, has it shipped?");
    let top = &suggestion.replies[0];
    assert!(suggestion.classification.anxious);
    assert!(top.applied_rules.iter().any(|r| r == "anxious_concrete_time"), "{:?}", top.applied_rules);
    // Calm: none of the three.
    let suggestion = suggest(vec![], "Hi, when will you ship my order?");
    let rules = &suggestion.replies[0].applied_rules;
    assert!(!rules.iter().any(|r| r == "angry_apology_first" || r == "escalated_handover"), "{rules:?}");
}
