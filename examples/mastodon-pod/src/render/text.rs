//! Status text rendered as Mastodon renders it (paragraphs, line breaks,
//! links, mentions and hashtags).

use super::account_by_name;
use crate::support::{ApiError, Ctx, escape};

/// A piece of status text.
enum Piece<'a> {
    Text(&'a str),
    Mention(&'a str, Option<&'a str>),
    Tag(&'a str),
    Url(&'a str),
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn pieces(line: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    let mut prev: Option<char> = None;
    while i < line.len() {
        let rest = &line[i..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        let boundary = prev.is_none_or(|p| !is_word(p) && p != '@' && p != '#' && p != '/');
        let mut taken = 0;
        let mut piece = None;
        if boundary && (rest.starts_with("https://") || rest.starts_with("http://")) {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ')', '!', '?', ';', ':']);
            taken = url.len();
            piece = Some(Piece::Url(url));
        } else if boundary && (c == '@' || c == '#') {
            let word_end = rest[1..]
                .find(|ch: char| !is_word(ch))
                .map_or(rest.len(), |e| e + 1);
            let word = &rest[1..word_end];
            if !word.is_empty() {
                if c == '#' {
                    if !word.chars().all(|ch| ch.is_ascii_digit()) {
                        taken = word_end;
                        piece = Some(Piece::Tag(word));
                    }
                } else {
                    let after = &rest[word_end..];
                    let domain = after.strip_prefix('@').map(|d| {
                        let end = d
                            .find(|ch: char| !(ch.is_alphanumeric() || ch == '.' || ch == '-'))
                            .unwrap_or(d.len());
                        d[..end].trim_end_matches('.')
                    });
                    match domain.filter(|d| !d.is_empty()) {
                        Some(d) => {
                            taken = word_end + 1 + d.len();
                            piece = Some(Piece::Mention(word, Some(d)));
                        }
                        None => {
                            taken = word_end;
                            piece = Some(Piece::Mention(word, None));
                        }
                    }
                }
            }
        }
        if let Some(p) = piece {
            if text_start < i {
                out.push(Piece::Text(&line[text_start..i]));
            }
            out.push(p);
            i += taken;
            text_start = i;
            prev = line[..i].chars().next_back();
        } else {
            i += c.len_utf8();
            prev = Some(c);
        }
    }
    if text_start < line.len() {
        out.push(Piece::Text(&line[text_start..]));
    }
    out
}

/// Status text as Mastodon renders it: paragraphs, line breaks, links,
/// mentions of local accounts and hashtags. Returns the HTML, the mentioned
/// account ids and the tags (lowercase).
pub(crate) async fn render_text(
    ctx: &Ctx,
    text: &str,
) -> Result<(String, Vec<i64>, Vec<String>), ApiError> {
    let text = text.replace("\r\n", "\n");
    let mut html = String::new();
    let mut mentioned = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        html.push_str("<p>");
        for (n, line) in paragraph.split('\n').enumerate() {
            if n > 0 {
                html.push_str("<br />");
            }
            for piece in pieces(line) {
                match piece {
                    Piece::Text(t) => html.push_str(&escape(t)),
                    Piece::Url(u) => html.push_str(&format!(
                        "<a href=\"{0}\" rel=\"nofollow noopener\" target=\"_blank\">{0}</a>",
                        escape(u)
                    )),
                    Piece::Tag(t) => {
                        let name = t.to_lowercase();
                        html.push_str(&format!(
                            "<a href=\"{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
                            escape(&ctx.url(&format!("/tags/{name}"))),
                            escape(t)
                        ));
                        if !tags.contains(&name) {
                            tags.push(name);
                        }
                    }
                    Piece::Mention(user, domain) => {
                        let local = domain.is_none_or(|d| {
                            d.eq_ignore_ascii_case(&ctx.host)
                                || ctx
                                    .host
                                    .split(':')
                                    .next()
                                    .is_some_and(|h| d.eq_ignore_ascii_case(h))
                        });
                        let found = if local {
                            account_by_name(ctx, user).await?
                        } else {
                            None
                        };
                        match found {
                            Some(id) => {
                                html.push_str(&format!(
                                    "<span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                                    escape(&ctx.url(&format!("/@{user}"))),
                                    escape(user)
                                ));
                                if !mentioned.contains(&id) {
                                    mentioned.push(id);
                                }
                            }
                            None => {
                                html.push('@');
                                html.push_str(&escape(user));
                                if let Some(d) = domain {
                                    html.push('@');
                                    html.push_str(&escape(d));
                                }
                            }
                        }
                    }
                }
            }
        }
        html.push_str("</p>");
    }
    Ok((html, mentioned, tags))
}
