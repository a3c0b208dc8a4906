//! The sandbox writer's words, one table per language the bot speaks (`locales/`). A table is a struct, so a
//! language missing a template does not compile.
//!
//! Placeholders: `{name}` the workspace, `{topic}` the topic asked for (the workspace's name without one),
//! `{audience}` and `{business}` from the profile, `{title}` an idea's title, `{n}` a number. Angles never
//! contain ": ", because a picked idea comes back to the writer as "title: angle".

/// Something said four ways, one per tone of voice the bot offers (`bot.tone.*`).
pub(crate) struct Tones {
    pub friendly: &'static str,
    pub professional: &'static str,
    pub playful: &'static str,
    pub bold: &'static str,
}

impl Tones {
    /// The text for `tone`; a tone typed by hand reads as friendly.
    pub fn get(&self, tone: &str) -> &'static str {
        match tone {
            "professional" => self.professional,
            "playful" => self.playful,
            "bold" => self.bold,
            _ => self.friendly,
        }
    }
}

pub(crate) struct Lang {
    pub code: &'static str,
    /// Idea frames: a title and a one-sentence angle.
    pub ideas: [(&'static str, &'static str); 10],
    /// A frame used again after all ten: "{title} (part {n})".
    pub again: &'static str,
    /// The last line of a post: a call to action in the workspace's tone.
    pub cta: Tones,
    /// "Who we are: {business}".
    pub about: &'static str,
    /// "Made for {audience}."
    pub audience: &'static str,
    /// Said when the profile does not name an audience.
    pub audience_fallback: &'static str,
    /// The image prompt of a draft.
    pub image_prompt: &'static str,
    /// The paragraph a "longer" rewrite adds.
    pub longer: &'static str,
    /// Hashtags fitting any small business, used after the ones taken from the workspace.
    pub tags: [&'static str; 5],
}

pub(crate) const EN: Lang = Lang {
    code: "en",
    ideas: [
        ("Behind the scenes: {topic}", "Show step by step how the team at {name} really works on it."),
        ("3 quick tips: {topic}", "Practical advice {audience} can use today."),
        ("Myth or fact: {topic}", "Clear up one common misconception in plain words."),
        ("A question for you: {topic}", "Ask {audience} what they think and answer the best replies."),
        ("Customer story: {topic}", "Tell how one customer's experience turned out."),
        ("Before and after: {topic}", "Compare the start and the result to show what {name} changes."),
        ("Meet the team: {topic}", "Introduce a person from {name} and what they love about the work."),
        ("{topic}: a quick checklist", "A short list {audience} can save and come back to."),
        ("Our favourite detail: {topic}", "Zoom in on one small thing that makes {name} different."),
        ("FAQ: {topic}", "Answer the question people ask most often, briefly and honestly."),
    ],
    again: "{title} (part {n})",
    cta: Tones {
        friendly: "Tell us what you think in the comments!",
        professional: "Contact us to learn more.",
        playful: "Tag a friend who needs to see this! 😄",
        bold: "Don't wait: come and see for yourself.",
    },
    about: "Who we are: {business}",
    audience: "Made for {audience}.",
    audience_fallback: "our customers",
    image_prompt: "{title} — a bright, simple photo ({audience})",
    longer: "Why it matters: we do this every day and are happy to share what we have learned along the way. \
             Questions are always welcome.",
    tags: ["smallbusiness", "shoplocal", "tips", "community", "behindthescenes"],
};

pub(crate) const RU: Lang = Lang {
    code: "ru",
    ideas: [
        ("За кулисами: {topic}", "Покажите шаг за шагом, как команда {name} работает над этим."),
        ("3 быстрых совета: {topic}", "Практичные советы, которые {audience} смогут применить уже сегодня."),
        ("Миф или факт: {topic}", "Развейте одно частое заблуждение простыми словами."),
        ("Вопрос к вам: {topic}", "Спросите мнение подписчиков и ответьте на лучшие комментарии."),
        ("История клиента: {topic}", "Расскажите, чем закончилась история одного клиента."),
        ("До и после: {topic}", "Сравните начало и результат, чтобы показать, что меняет {name}."),
        ("Знакомьтесь, команда: {topic}", "Представьте человека из {name} и то, что он любит в своей работе."),
        ("{topic}: короткий чек-лист", "Короткий список, который {audience} сохранят и к которому вернутся."),
        ("Любимая деталь: {topic}", "Покажите крупно одну мелочь, которая отличает {name}."),
        ("Частый вопрос: {topic}", "Коротко и честно ответьте на вопрос, который задают чаще всего."),
    ],
    again: "{title} (часть {n})",
    cta: Tones {
        friendly: "Расскажите в комментариях, что вы думаете!",
        professional: "Свяжитесь с нами, чтобы узнать подробнее.",
        playful: "Отметьте друга, которому стоит это увидеть! 😄",
        bold: "Не ждите: приходите и убедитесь сами.",
    },
    about: "Кто мы: {business}",
    audience: "Для кого: {audience}.",
    audience_fallback: "наши клиенты",
    image_prompt: "{title} — яркое простое фото ({audience})",
    longer: "Почему это важно: мы занимаемся этим каждый день и с радостью делимся тем, чему научились. \
             Вопросы всегда приветствуются.",
    tags: ["малыйбизнес", "советы", "полезно", "сообщество", "закулисами"],
};

pub(crate) const UK: Lang = Lang {
    code: "uk",
    ideas: [
        ("За лаштунками: {topic}", "Покажіть крок за кроком, як команда {name} працює над цим."),
        ("3 швидкі поради: {topic}", "Практичні поради, які {audience} зможуть застосувати вже сьогодні."),
        ("Міф чи факт: {topic}", "Розвійте одну поширену хибну думку простими словами."),
        ("Питання до вас: {topic}", "Запитайте думку підписників і дайте відповідь на найкращі коментарі."),
        ("Історія клієнта: {topic}", "Розкажіть, чим закінчилася історія одного клієнта."),
        ("До і після: {topic}", "Порівняйте початок і результат, щоб показати, що змінює {name}."),
        ("Знайомтеся, команда: {topic}", "Представте людину з {name} і те, що вона любить у своїй роботі."),
        ("{topic}: короткий чек-лист", "Короткий список, який {audience} збережуть і до якого повернуться."),
        ("Улюблена деталь: {topic}", "Покажіть крупним планом одну дрібницю, яка вирізняє {name}."),
        ("Часте питання: {topic}", "Коротко й чесно дайте відповідь на питання, яке ставлять найчастіше."),
    ],
    again: "{title} (частина {n})",
    cta: Tones {
        friendly: "Розкажіть у коментарях, що ви думаєте!",
        professional: "Зв'яжіться з нами, щоб дізнатися більше.",
        playful: "Позначте друга, якому варто це побачити! 😄",
        bold: "Не чекайте: приходьте й переконайтеся самі.",
    },
    about: "Хто ми: {business}",
    audience: "Для кого: {audience}.",
    audience_fallback: "наші клієнти",
    image_prompt: "{title} — яскраве просте фото ({audience})",
    longer: "Чому це важливо: ми робимо це щодня і радо ділимося тим, чого навчилися. \
             Запитання завжди вітаються.",
    tags: ["малийбізнес", "поради", "корисно", "спільнота", "залаштунками"],
};

pub(crate) const ES: Lang = Lang {
    code: "es",
    ideas: [
        ("Entre bastidores: {topic}", "Muestra paso a paso cómo trabaja de verdad el equipo de {name}."),
        ("3 consejos rápidos: {topic}", "Consejos prácticos que {audience} pueden aplicar hoy mismo."),
        ("¿Mito o realidad? {topic}", "Aclara un error común con palabras sencillas."),
        ("Una pregunta para ti: {topic}", "Pide la opinión de tu comunidad y responde a los mejores comentarios."),
        ("Historia de un cliente: {topic}", "Cuenta cómo terminó la experiencia de un cliente."),
        ("Antes y después: {topic}", "Compara el inicio y el resultado para mostrar lo que cambia {name}."),
        ("Conoce al equipo: {topic}", "Presenta a una persona de {name} y lo que más le gusta de su trabajo."),
        ("{topic}: una lista rápida", "Una lista corta que {audience} pueden guardar y consultar."),
        ("Nuestro detalle favorito: {topic}", "Muestra de cerca un pequeño detalle que hace diferente a {name}."),
        ("Pregunta frecuente: {topic}", "Responde de forma breve y honesta a la pregunta más habitual."),
    ],
    again: "{title} (parte {n})",
    cta: Tones {
        friendly: "¡Cuéntanos qué opinas en los comentarios!",
        professional: "Contáctanos para saber más.",
        playful: "¡Etiqueta a alguien que tiene que ver esto! 😄",
        bold: "No esperes: ven y compruébalo tú mismo.",
    },
    about: "Quiénes somos: {business}",
    audience: "Pensado para {audience}.",
    audience_fallback: "nuestros clientes",
    image_prompt: "{title} — una foto sencilla y luminosa ({audience})",
    longer: "Por qué importa: lo hacemos cada día y nos encanta compartir lo que hemos aprendido. \
             Las preguntas siempre son bienvenidas.",
    tags: ["pequeñonegocio", "consejos", "comerciolocal", "comunidad", "detrasdecamaras"],
};

pub(crate) const DE: Lang = Lang {
    code: "de",
    ideas: [
        ("Hinter den Kulissen: {topic}", "Zeig Schritt für Schritt, wie das Team von {name} wirklich arbeitet."),
        ("3 schnelle Tipps: {topic}", "Praktische Tipps, die {audience} noch heute nutzen können."),
        ("Mythos oder Fakt: {topic}", "Räum in einfachen Worten mit einem verbreiteten Irrtum auf."),
        ("Eine Frage an Sie: {topic}", "Frag nach Meinungen und antworte auf die besten Kommentare."),
        ("Kundengeschichte: {topic}", "Erzähl, wie die Erfahrung eines Kunden ausgegangen ist."),
        ("Vorher und nachher: {topic}", "Vergleiche Anfang und Ergebnis, um zu zeigen, was {name} verändert."),
        ("Das Team stellt sich vor: {topic}", "Stell eine Person von {name} vor und was sie an der Arbeit liebt."),
        ("{topic}: eine kurze Checkliste", "Eine kurze Liste, die {audience} speichern und wieder aufrufen können."),
        ("Unser Lieblingsdetail: {topic}", "Zeig ganz nah ein kleines Detail, das {name} besonders macht."),
        ("Häufige Frage: {topic}", "Beantworte die häufigste Frage kurz und ehrlich."),
    ],
    again: "{title} (Teil {n})",
    cta: Tones {
        friendly: "Erzählen Sie uns in den Kommentaren, was Sie denken!",
        professional: "Kontaktieren Sie uns für mehr Informationen.",
        playful: "Markieren Sie jemanden, der das sehen muss! 😄",
        bold: "Warten Sie nicht: Überzeugen Sie sich selbst.",
    },
    about: "Wer wir sind: {business}",
    audience: "Gemacht für {audience}.",
    audience_fallback: "unsere Kunden",
    image_prompt: "{title} — ein helles, schlichtes Foto ({audience})",
    longer: "Warum das wichtig ist: Wir machen das jeden Tag und teilen gern, was wir dabei gelernt haben. \
             Fragen sind immer willkommen.",
    tags: ["kleinunternehmen", "tipps", "lokal", "community", "hinterdenkulissen"],
};

/// Every table, in the order of `tochen_domain::i18n::LANGUAGES`.
pub(crate) const ALL: [&Lang; 5] = [&EN, &RU, &UK, &ES, &DE];

/// The table of a language code ("ru", "pt-BR"...), English when the bot does not speak it.
pub(crate) fn lang(code: &str) -> &'static Lang {
    let code = tochen_domain::i18n::normalize(code);
    ALL.iter().copied().find(|l| l.code == code).unwrap_or(&EN)
}
