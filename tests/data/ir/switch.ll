define i32 @sw(i32 %x) {
entry:
  switch i32 %x, label %d [
    i32 0, label %a
    i32 7, label %b
  ]
a:
  ret i32 1
b:
  ret i32 2
d:
  ret i32 3
}
