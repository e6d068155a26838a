package dev.zoetrope.models.internvl;

import dev.zoetrope.core.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A chat prompt format of InternVL's {@code conversation.py}, held as data (the built-in ones are read from
 * {@code conversation_templates.json}: Hermes-2 for InternVL2-1B, internlm2-chat, phi3-chat, internvl2_5).
 * The MPT separator style: {@code system_template(system_message) + sep}, then each message as
 * {@code role + text + sep}, the open assistant turn as {@code role} alone — no newline after the separator
 * unless the separator has one.
 *
 * @param roles the user and the assistant role prefixes
 * @param sep   the separator; its stripped form is the token that ends an answer
 */
public record ConversationTemplate(String name, String systemTemplate, String systemMessage, List<String> roles,
                                   SeparatorStyle sepStyle, String sep, String stopStr) {

    public enum SeparatorStyle { MPT }

    /** One turn: role prefix and text; null (or empty, as Python's truthiness) text = the open turn. */
    public record Message(String role, String text) {
    }

    private static final String RESOURCE = "conversation_templates.json";
    private static volatile Map<String, ConversationTemplate> builtIn;

    public ConversationTemplate {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(systemTemplate, "system_template");
        Objects.requireNonNull(sep, "sep");
        systemMessage = systemMessage == null ? "" : systemMessage;
        roles = List.copyOf(roles);
        if (roles.size() != 2) throw new IllegalArgumentException("template " + name + ": roles must be [user, assistant]");
    }

    /** A built-in template by its InternVL name (config.json "template"). */
    public static ConversationTemplate named(String name) {
        ConversationTemplate t = builtIn().get(name);
        if (t == null) {
            throw new IllegalArgumentException("unknown conversation template \"" + name + "\" (known: " + builtIn().keySet() + ")");
        }
        return t;
    }

    public static Map<String, ConversationTemplate> builtIn() {
        Map<String, ConversationTemplate> m = builtIn;
        if (m == null) {
            m = load();
            builtIn = m;
        }
        return m;
    }

    private static Map<String, ConversationTemplate> load() {
        String text;
        try (InputStream in = ConversationTemplate.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("resource " + RESOURCE + " missing from the classpath");
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, ConversationTemplate> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : Json.parseObject(text).entrySet()) {
            if (e.getKey().startsWith("_")) continue;
            out.put(e.getKey(), fromJson(e.getKey(), Json.Obj.of(e.getValue())));
        }
        return Collections.unmodifiableMap(out);
    }

    /** A template from its JSON description (keys as conversation.py's Conversation fields). */
    public static ConversationTemplate fromJson(String name, Json.Obj json) {
        String style = json.string("sep_style", "MPT");
        SeparatorStyle sepStyle;
        try {
            sepStyle = SeparatorStyle.valueOf(style);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("template " + name + ": separator style " + style + " is not implemented (only MPT)");
        }
        return new ConversationTemplate(name, json.string("system_template", "{system_message}"),
                json.string("system_message", ""), json.strings("roles", List.of("USER", "ASSISTANT")), sepStyle,
                json.string("sep", "\n"), json.string("stop_str", null));
    }

    public ConversationTemplate withSystemMessage(String message) {
        return new ConversationTemplate(name, systemTemplate, message, roles, sepStyle, sep, stopStr);
    }

    public String userRole() {
        return roles.get(0);
    }

    public String assistantRole() {
        return roles.get(1);
    }

    /** The token text that ends an answer: {@code sep.strip()} (chat's eos). */
    public String stopToken() {
        return sep.strip();
    }

    /** get_prompt() for the given messages. */
    public String prompt(List<Message> messages) {
        StringBuilder sb = new StringBuilder(systemTemplate.replace("{system_message}", systemMessage)).append(sep);
        for (Message m : messages) {
            if (m.text() != null && !m.text().isEmpty()) sb.append(m.role()).append(m.text()).append(sep);
            else sb.append(m.role());
        }
        return sb.toString();
    }

    /** The prompt chat() builds: history (question, answer) pairs, then the question and an open answer. */
    public String chatPrompt(List<Turn> history, String question) {
        List<Message> messages = new ArrayList<>();
        for (Turn t : history) {
            messages.add(new Message(userRole(), t.question()));
            messages.add(new Message(assistantRole(), t.answer()));
        }
        messages.add(new Message(userRole(), question));
        messages.add(new Message(assistantRole(), null));
        return prompt(messages);
    }

    /** One past round of a chat. */
    public record Turn(String question, String answer) {
    }
}
