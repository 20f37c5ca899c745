//! Physical memory regions and carving reserved ranges out of them.

use core::ops::Range;

/// A half-open range of physical addresses.
pub type Region = Range<u64>;

/// Yields the parts of each `ram` region that overlap none of `reserved`.
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
        current: None,
    }
}

/// Iterator returned by [`carve`].
pub struct Carve<I, const N: usize> {
    ram: I,
    reserved: [Region; N],
    current: Option<Region>,
}

impl<I: Iterator<Item = Region>, const N: usize> Iterator for Carve<I, N> {
    type Item = Region;

    fn next(&mut self) -> Option<Region> {
        loop {
            let region = match self.current.take() {
                Some(region) => region,
                None => self.ram.next()?,
            };
            if region.start >= region.end {
                continue;
            }
            // The reserved range that starts first among those overlapping `region`.
            let first_overlap = self
                .reserved
                .iter()
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
