use std::alloc::{GlobalAlloc, Layout, System};

struct A;

#[perfcore::profile]
unsafe impl GlobalAlloc for A {
    #[perfcore::profile]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    #[perfcore::profile(skip)]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn main() {}
