//! XML bodies (the `rest-xml`, `query` and `ec2` protocols): a small element tree read with
//! quick-xml, turned into a result by the model; and `rest-xml` request bodies written from a
//! Task's parameters.

use quick_xml::Reader;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use serde_json::{Map, Value};

use crate::model::{Model, Shape, ShapeRef, XmlNamespace};
use crate::values::{member, pascal, resolve, scalar_from_text, scalar_text};

/// One element: its name (without namespace prefix), attributes, text and children.
#[derive(Debug, Default, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first descendant named `name`, searching depth first.
    pub fn find_text(&self, name: &str) -> Option<&str> {
        for c in &self.children {
            if c.name == name {
                return Some(c.text.as_str());
            }
            if let Some(t) = c.find_text(name) {
                return Some(t);
            }
        }
        None
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_owned(),
        None => name.into_owned(),
    }
}

/// Parses a document into its root element.
pub fn parse(text: &[u8]) -> Result<Element, String> {
    let mut reader = Reader::from_reader(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let mut el = Element {
                    name: local(e.name().as_ref()),
                    ..Element::default()
                };
                for a in e.attributes().flatten() {
                    let value = a
                        .unescape_value()
                        .map(|v| v.into_owned())
                        .unwrap_or_default();
                    el.attrs.push((local(a.key.as_ref()), value));
                }
                stack.push(el);
            }
            Ok(Event::Empty(e)) => {
                let el = Element {
                    name: local(e.name().as_ref()),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(top) = stack.last_mut() {
                    let text = t.decode().map_err(|e| e.to_string())?;
                    let text = quick_xml::escape::unescape(&text).map_err(|e| e.to_string())?;
                    top.text.push_str(&text);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(top) = stack.last_mut() {
                    let entity = format!("&{};", String::from_utf8_lossy(&r));
                    let text = quick_xml::escape::unescape(&entity).map_err(|e| e.to_string())?;
                    top.text.push_str(&text);
                }
            }
            Ok(Event::End(_)) => {
                let el = stack.pop().ok_or("an end tag without a start")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Ok(Event::Eof) => return Err("the document ended early".into()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
        buf.clear();
    }
}

/// The element name a member is read from or written to.
fn member_name(name: &str, r: &ShapeRef) -> String {
    r.location_name.clone().unwrap_or_else(|| name.to_owned())
}

/// A structure's members read from `el` (members bound to headers or the status code are the
/// caller's).
pub fn from_element(model: &Model, shape: &Shape, el: &Element) -> Value {
    match shape.kind.as_str() {
        "structure" => {
            let mut out = Map::new();
            for (name, r) in &shape.members {
                if r.location.is_some() {
                    continue;
                }
                let target = resolve(model, r);
                let wire = member_name(name, r);
                if r.xml_attribute {
                    if let Some((_, v)) = el.attrs.iter().find(|(k, _)| *k == wire) {
                        out.insert(pascal(name), scalar_from_text(target, v));
                    }
                    continue;
                }
                let value = if target.kind == "list" && (r.flattened || target.flattened) {
                    let items: Vec<&Element> = el.children_named(&wire).collect();
                    if items.is_empty() {
                        continue;
                    }
                    list_items(model, target, items)
                } else if target.kind == "map" && (r.flattened || target.flattened) {
                    let entries: Vec<&Element> = el.children_named(&wire).collect();
                    if entries.is_empty() {
                        continue;
                    }
                    map_entries(model, target, entries)
                } else {
                    let Some(child) = el.child(&wire) else {
                        continue;
                    };
                    from_element(model, target, child)
                };
                out.insert(pascal(name), value);
            }
            Value::Object(out)
        }
        "list" => {
            let item = shape
                .member
                .as_ref()
                .and_then(|m| m.location_name.clone())
                .unwrap_or_else(|| "member".into());
            list_items(model, shape, el.children_named(&item).collect())
        }
        "map" => map_entries(model, shape, el.children_named("entry").collect()),
        _ => scalar_from_text(shape, &el.text),
    }
}

fn list_items(model: &Model, list: &Shape, items: Vec<&Element>) -> Value {
    let Some(m) = &list.member else {
        return Value::Array(Vec::new());
    };
    let target = resolve(model, m);
    Value::Array(
        items
            .into_iter()
            .map(|i| from_element(model, target, i))
            .collect(),
    )
}

fn map_entries(model: &Model, map: &Shape, entries: Vec<&Element>) -> Value {
    let key_name = map
        .key
        .as_ref()
        .and_then(|k| k.location_name.clone())
        .unwrap_or_else(|| "key".into());
    let value_name = map
        .value
        .as_ref()
        .and_then(|v| v.location_name.clone())
        .unwrap_or_else(|| "value".into());
    let mut out = Map::new();
    for e in entries {
        let Some(k) = e.child(&key_name) else {
            continue;
        };
        let v = match (e.child(&value_name), &map.value) {
            (Some(v), Some(vr)) => from_element(model, resolve(model, vr), v),
            _ => Value::Null,
        };
        out.insert(k.text.clone(), v);
    }
    Value::Object(out)
}

fn namespace_attr(ns: Option<&XmlNamespace>) -> String {
    match ns {
        Some(XmlNamespace::Uri(uri)) => format!(" xmlns=\"{}\"", escape(uri.as_str())),
        Some(XmlNamespace::Full { prefix, uri }) => match prefix {
            Some(p) => format!(" xmlns:{p}=\"{}\"", escape(uri.as_str())),
            None => format!(" xmlns=\"{}\"", escape(uri.as_str())),
        },
        None => String::new(),
    }
}

/// Writes `input` as the element `name` of shape `shape` (a `rest-xml` request body).
pub fn write(
    model: &Model,
    out: &mut String,
    name: &str,
    shape: &Shape,
    ns: Option<&XmlNamespace>,
    input: &Value,
) {
    match shape.kind.as_str() {
        "structure" => {
            let Some(obj) = input.as_object() else { return };
            let mut attrs = namespace_attr(ns.or(shape.xml_namespace.as_ref()));
            let mut body = String::new();
            for (m, r) in &shape.members {
                if r.location.is_some() {
                    continue;
                }
                let Some(v) = member(obj, m) else { continue };
                let target = resolve(model, r);
                let wire = member_name(m, r);
                if r.xml_attribute {
                    let text = scalar_text(target, Some(r), v, "iso8601");
                    attrs.push_str(&format!(" {wire}=\"{}\"", escape(text.as_str())));
                    continue;
                }
                if target.kind == "list" && (r.flattened || target.flattened) {
                    if let (Value::Array(items), Some(mr)) = (v, &target.member) {
                        for item in items {
                            write(model, &mut body, &wire, resolve(model, mr), None, item);
                        }
                    }
                    continue;
                }
                write(model, &mut body, &wire, target, r.xml_namespace.as_ref(), v);
            }
            out.push_str(&format!("<{name}{attrs}>{body}</{name}>"));
        }
        "list" => {
            let Some(mr) = &shape.member else { return };
            let item = mr.location_name.clone().unwrap_or_else(|| "member".into());
            out.push_str(&format!("<{name}{}>", namespace_attr(ns)));
            if let Value::Array(items) = input {
                for i in items {
                    write(model, out, &item, resolve(model, mr), None, i);
                }
            }
            out.push_str(&format!("</{name}>"));
        }
        "map" => {
            out.push_str(&format!("<{name}>"));
            if let (Value::Object(entries), Some(vr)) = (input, &shape.value) {
                for (k, v) in entries {
                    out.push_str(&format!("<entry><key>{}</key>", escape(k.as_str())));
                    write(model, out, "value", resolve(model, vr), None, v);
                    out.push_str("</entry>");
                }
            }
            out.push_str(&format!("</{name}>"));
        }
        _ => {
            let text = scalar_text(shape, None, input, "iso8601");
            out.push_str(&format!(
                "<{name}{}>{}</{name}>",
                namespace_attr(ns),
                escape(text.as_str())
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_becomes_a_tree_with_entities_decoded() {
        let el = parse(
            br#"<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>a &amp; b</Message><Key/></Error>"#,
        )
        .expect("parses");
        assert_eq!(el.name, "Error");
        assert_eq!(el.find_text("Code"), Some("NoSuchKey"));
        assert_eq!(el.find_text("Message"), Some("a & b"));
        assert!(el.child("Key").is_some());
        assert!(parse(b"<a><b></a>").is_err());
    }
}
