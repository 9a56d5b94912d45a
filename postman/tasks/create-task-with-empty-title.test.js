expectInvalidFields(['title']);
