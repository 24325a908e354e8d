{
  "targets": [
    {
      "target_name": "ferry_sendfile",
      "sources": ["native/sendfile.c"],
      "conditions": [["OS!='linux'", { "type": "none", "sources!": ["native/sendfile.c"] }]]
    },
    {
      "target_name": "ferry_open",
      "sources": ["native/open_inside.c"],
      "conditions": [["OS!='linux'", { "type": "none", "sources!": ["native/open_inside.c"] }]]
    },
    {
      "target_name": "ferry_privileges",
      "sources": ["native/privileges.c"],
      "conditions": [["OS!='linux'", { "type": "none", "sources!": ["native/privileges.c"] }]]
    }
  ]
}
