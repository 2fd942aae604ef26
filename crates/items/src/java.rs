//! The order Step Functions gives an object's keys when it builds the object as a Java
//! `HashMap` (a CSV row, an S3 inventory row): by bucket of the key's `String.hashCode`, then
//! in insertion order, the table grown from 16 buckets at a load factor of 0.75.
//!
//! Recorded by AWS: headers `0,True,{}` come out as `{"0", "{}", "True"}` and `H1,` as
//! `{"", "H1"}`, which is this order and neither insertion nor sorted order.

/// Java's `String.hashCode` (over UTF-16 code units).
fn java_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// The bucket `HashMap` puts a key in, in a table of `buckets` (a power of two).
fn bucket(s: &str, buckets: usize) -> usize {
    let h = java_hash(s) as u32;
    ((h ^ (h >> 16)) as usize) & (buckets - 1)
}

/// The order (indices into `keys`) in which a `HashMap` built by putting `keys` in order
/// iterates them; a repeated key keeps its first place.
pub fn hash_map_order(keys: &[String]) -> Vec<usize> {
    let mut firsts: Vec<usize> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        if !firsts.iter().any(|&j| keys[j] == *k) {
            firsts.push(i);
        }
    }
    let mut buckets = 16usize;
    while firsts.len() * 4 > buckets * 3 {
        buckets *= 2;
    }
    // A stable sort keeps insertion order within a bucket, as HashMap's resizes do.
    firsts.sort_by_key(|&i| bucket(&keys[i], buckets));
    firsts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ordered(keys: &[&str]) -> Vec<String> {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        hash_map_order(&keys)
            .into_iter()
            .map(|i| keys[i].clone())
            .collect()
    }

    #[test]
    fn keys_come_out_as_aws_recorded_them() {
        assert_eq!(ordered(&["0", "True", "{}"]), ["0", "{}", "True"]);
        assert_eq!(ordered(&["H1", ""]), ["", "H1"]);
        assert_eq!(ordered(&["H1", "H2", "H3"]), ["H1", "H2", "H3"]);
        assert_eq!(ordered(&["Col1", "Col2"]), ["Col1", "Col2"]);
    }

    #[test]
    fn hash_codes_are_javas() {
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("H1"), 2281);
        assert_eq!(java_hash("hello world"), 1_794_106_052);
    }
}
