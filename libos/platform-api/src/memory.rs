//! Physical memory regions and carving reserved ranges out of them.

use core::ops::Range;

/// A half-open range of physical addresses.
pub type Region = Range<u64>;

/// RAM regions past this many are ignored by [`carve`].
pub const MAX_RAM_REGIONS: usize = 16;

/// Yields the parts of each `ram` region that overlap none of `reserved` and no earlier
/// `ram` region: memory maps come from the loader, and one that lists a range twice must
/// not hand the heap the same bytes twice. Regions past [`MAX_RAM_REGIONS`] are ignored.
///
/// Pieces come out in address order within each RAM region; empty pieces are skipped.
/// Allocation-free, so a platform can use it before any heap exists.
pub fn carve<I, const N: usize>(ram: I, reserved: [Region; N]) -> Carve<I, N>
where
    I: Iterator<Item = Region>,
{
    Carve {
        ram,
        reserved,
        earlier: [const { 0..0 }; MAX_RAM_REGIONS],
        seen: 0,
        current: None,
    }
}

/// Iterator returned by [`carve`].
pub struct Carve<I, const N: usize> {
    ram: I,
    reserved: [Region; N],
    /// The RAM regions taken so far, the current one last.
    earlier: [Region; MAX_RAM_REGIONS],
    seen: usize,
    current: Option<Region>,
}

impl<I: Iterator<Item = Region>, const N: usize> Iterator for Carve<I, N> {
    type Item = Region;

    fn next(&mut self) -> Option<Region> {
        loop {
            let region = match self.current.take() {
                Some(region) => region,
                None => {
                    if self.seen == MAX_RAM_REGIONS {
                        return None;
                    }
                    let region = self.ram.next()?;
                    self.earlier[self.seen] = region.clone();
                    self.seen += 1;
                    region
                }
            };
            if region.start >= region.end {
                continue;
            }
            // The taken range that starts first among those overlapping `region`: reserved
            // ranges, and the RAM regions before the current one.
            let first_overlap = self
                .reserved
                .iter()
                .chain(&self.earlier[..self.seen - 1])
                .filter(|r| r.start < region.end && r.end > region.start)
                .min_by_key(|r| r.start);
            match first_overlap {
                None => return Some(region),
                Some(r) => {
                    if r.end < region.end {
                        self.current = Some(r.end..region.end);
                    }
                    if r.start > region.start {
                        return Some(region.start..r.start);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn carved<const N: usize>(ram: &[Region], reserved: [Region; N]) -> Vec<Region> {
        carve(ram.iter().cloned(), reserved).collect()
    }

    #[test]
    fn ram_listed_twice_or_overlapping_is_given_once() {
        assert_eq!(carved(&[0..100, 0..100], [0..0]), [0..100]);
        assert_eq!(
            carved(&[0..100, 50..200, 150..300], [120..130]),
            [0..100, 100..120, 130..200, 200..300]
        );
        let many: Vec<Region> = (0..20).map(|i| i * 10..i * 10 + 5).collect();
        assert_eq!(carved(&many, [0..0]).len(), MAX_RAM_REGIONS);
    }

    #[test]
    fn untouched_region_passes_through() {
        assert_eq!(carved(&[0..100], [200..300]), [0..100]);
    }

    #[test]
    fn hole_in_the_middle_splits() {
        assert_eq!(carved(&[0..100], [40..60]), [0..40, 60..100]);
    }

    #[test]
    fn overlapping_and_unsorted_reservations() {
        assert_eq!(
            carved(&[0..100, 200..300], [50..250, 10..20, 40..60]),
            [0..10, 20..40, 250..300]
        );
    }

    #[test]
    fn fully_covered_region_disappears() {
        assert_eq!(carved(&[10..20, 30..40], [0..25]), [30..40]);
        assert_eq!(carved(&[10..10], []), Vec::<Region>::new());
    }
}
