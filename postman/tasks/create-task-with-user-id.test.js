expectInvalidFields(['user_id']);
