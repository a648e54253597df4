"""Customer tiering (客户分层管理, issue 14): a business area (`tiering.area`)."""
