{
  "targets": [
    {
      "target_name": "ferry_sendfile",
      "sources": ["native/sendfile.c"],
      "conditions": [["OS!='linux'", { "type": "none", "sources!": ["native/sendfile.c"] }]]
    }
  ]
}
